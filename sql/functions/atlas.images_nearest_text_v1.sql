-- The k images closest to a stored text vector (atlas.text_vector: e.g. the
-- open_clip text embedding of "a photo of melanoma on dark skin"), exact
-- cosine distance within the text vector's model:
--   select * from atlas.images_nearest_text_v1('ViT-B-16', 'melanoma', 20);
-- The label is looked up as a value, never spliced into SQL text.
create or replace function atlas.images_nearest_text_v1(
    p_model_name text,
    p_label text,
    p_k integer default 10
)
returns table (
    image_id bigint,
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
    select t.model_id, t.vec into v_model_id, v_vec
    from atlas.text_vector as t
    inner join atlas.embedding_model as m
        on t.model_id = m.model_id
    where m.model_name = p_model_name and t.label = p_label;
    if v_vec is null then
        raise exception 'no text vector % for model %', p_label, p_model_name
            using hint = 'select model_id, label from atlas.text_vector';
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
    where e.model_id = v_model_id and i.status = 'ok'
    order by e.vec <=> v_vec, e.image_id
    limit greatest(p_k, 0);
end;
$$;
