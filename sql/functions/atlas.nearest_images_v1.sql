-- The k images closest to one image (exact cosine distance, one embedding
-- model), for analysts:
--   select * from atlas.nearest_images_v1(42, 'efficientnet-lite0', 5);
-- Arguments are values, never spliced into SQL text: nothing to inject.
-- Quarantined images are left out; the image itself is not its neighbour.
create or replace function atlas.nearest_images_v1(
    p_image_id bigint,
    p_model_name text,
    p_k integer default 10
)
returns table (
    neighbour_image_id bigint,
    dataset_slug text,
    release_year smallint,
    cosine_distance double precision
)
language plpgsql
stable
as $$
declare
    v_model_id integer;
    v_vec vector;
begin
    select m.model_id into v_model_id
    from atlas.embedding_model as m
    where m.model_name = p_model_name;
    if v_model_id is null then
        raise exception 'unknown embedding model %', p_model_name
            using hint = 'select model_name from atlas.embedding_model';
    end if;
    select e.vec into v_vec
    from atlas.embedding as e
    where e.model_id = v_model_id and e.image_id = p_image_id;
    if v_vec is null then
        raise exception 'image % has no embedding of model %', p_image_id, p_model_name;
    end if;
    return query
    select
        e.image_id,
        d.slug,
        i.release_year,
        (e.vec <=> v_vec)::double precision
    from atlas.embedding as e
    inner join atlas.image as i
        on e.image_id = i.image_id
    inner join atlas.dataset as d
        on i.dataset_id = d.dataset_id
    where
        e.model_id = v_model_id
        and e.image_id <> p_image_id
        and i.status = 'ok'
    order by e.vec <=> v_vec, e.image_id
    limit greatest(p_k, 0);
end;
$$;
