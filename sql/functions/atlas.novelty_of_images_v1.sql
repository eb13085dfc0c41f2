-- Informational novelty of a set of images against the rest of the atlas
-- (DESIGN.md): Q = the given image ids, R = every other usable image of the
-- same model; novelty(q) = mean cosine distance of q to its k exact nearest
-- neighbours in R; novelty = mean over Q. "What would this set add?"
--   select * from atlas.novelty_of_images_v1(array[1, 2, 3], 'efficientnet-lite0');
-- Ids are bound as values (an array), never spliced into SQL text.
-- n_missing counts ids without an embedding of the model (or quarantined).
create or replace function atlas.novelty_of_images_v1(
    p_image_ids bigint[],
    p_model_name text,
    p_k integer default 100
)
returns table (
    n_query bigint,
    n_missing bigint,
    n_reference bigint,
    k integer,
    novelty double precision
)
language plpgsql
stable
as $$
declare
    v_model_id integer;
begin
    select m.model_id into v_model_id
    from atlas.embedding_model as m
    where m.model_name = p_model_name;
    if v_model_id is null then
        raise exception 'unknown embedding model %', p_model_name
            using hint = 'select model_name from atlas.embedding_model';
    end if;
    if p_k is null or p_k < 1 then
        raise exception 'k must be at least 1, got %', p_k;
    end if;
    return query
    with usable as (
        select
            e.image_id,
            e.vec,
            e.image_id = any(p_image_ids) as is_query
        from atlas.embedding as e
        inner join atlas.image as i
            on e.image_id = i.image_id
        where e.model_id = v_model_id and i.status = 'ok'
    ),

    counts as (
        select
            count(*) filter (where u.is_query) as n_query,
            count(*) filter (where not u.is_query) as n_reference
        from usable as u
    ),

    per_query as (
        select
            q.image_id,
            avg(nearest.distance) as novelty
        from usable as q
        cross join lateral (
            select q.vec <=> r.vec as distance
            from usable as r
            where not r.is_query
            order by q.vec <=> r.vec
            limit p_k
        ) as nearest
        where q.is_query
        group by q.image_id
    )

    select
        c.n_query,
        (
            select count(distinct wanted.id)
            from unnest(p_image_ids) as wanted (id)
        ) - c.n_query,
        c.n_reference,
        case when c.n_reference > 0 then least(p_k, c.n_reference) end::integer,
        (select avg(p.novelty) from per_query as p)::double precision
    from counts as c;
end;
$$;
