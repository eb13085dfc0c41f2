-- Informational novelty of a set of images against the rest of the atlas
-- (DESIGN.md): Q = the given image ids, R = every other usable image of the
-- same model; novelty(q) = mean cosine distance of q to its k nearest
-- neighbours in R; novelty = mean over Q. "What would this set add?"
--   select * from atlas.novelty_of_images_v2(array[1, 2, 3], 'efficientnet-lite0');
-- For both storages (atlas.embedding_model.storage): v1 read only
-- atlas.embedding.vec, so halfvec models got nothing. v2 searches R with the
-- expression of the model's partial HNSW index (vec::vector(dim) or
-- vec_half::halfvec(dim)), so the planner can use that index: then the
-- neighbours are approximate (hnsw.ef_search = max(40, k), iterative scan
-- in strict order, as the knn sql engine), otherwise exact.
-- Ids are bound as values (an array), never spliced into SQL text; only the
-- integers model_id and dimension and fixed words are formatted into the
-- query. n_missing counts ids without an embedding of the model (or
-- quarantined).
-- The search settings belong to the call (SET clauses: the caller's values
-- come back on exit; the names are quoted only for sqlfluff's parser).
create or replace function atlas.novelty_of_images_v2(
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
set "hnsw.ef_search" = 40
set "hnsw.iterative_scan" = 'strict_order'
as $$
declare
    v_model_id integer;
    v_column text;
    v_type text;
begin
    select c.model_id, c.column_name, c.type_name
    into v_model_id, v_column, v_type
    from atlas.model_vector_column_v1(p_model_name) as c;
    if p_k is null or p_k < 1 then
        raise exception 'k must be at least 1, got %', p_k;
    end if;
    perform set_config(
        'hnsw.ef_search', least(greatest(p_k, 40), 1000)::text, true
    );
    return query execute format(
        'with usable as ('
        '    select e.image_id, e.image_id = any($1) as is_query'
        '    from atlas.embedding as e'
        '    inner join atlas.image as i on e.image_id = i.image_id'
        '    where e.model_id = %3$s and i.status = ''ok'''
        '), '
        'counts as ('
        '    select'
        '        count(*) filter (where u.is_query) as n_query,'
        '        count(*) filter (where not u.is_query) as n_reference'
        '    from usable as u'
        '), '
        'per_query as ('
        '    select q.image_id, avg(nearest.distance) as novelty'
        '    from atlas.embedding as q'
        '    inner join atlas.image as qi on q.image_id = qi.image_id'
        '    cross join lateral ('
        '        select r.%1$s::%2$s <=> q.%1$s::%2$s as distance'
        '        from atlas.embedding as r'
        '        inner join atlas.image as ri on r.image_id = ri.image_id'
        '        where'
        '            r.model_id = %3$s'
        '            and ri.status = ''ok'''
        '            and r.image_id <> all($1)'
        '        order by r.%1$s::%2$s <=> q.%1$s::%2$s'
        '        limit $2'
        '    ) as nearest'
        '    where'
        '        q.model_id = %3$s'
        '        and q.image_id = any($1)'
        '        and qi.status = ''ok'''
        '    group by q.image_id'
        ') '
        'select'
        '    c.n_query,'
        '    (select count(distinct wanted.id) from unnest($1) as wanted (id))'
        '    - c.n_query,'
        '    c.n_reference,'
        '    case when c.n_reference > 0 then least($2, c.n_reference) end::integer,'
        '    (select avg(p.novelty) from per_query as p)::double precision '
        'from counts as c',
        v_column, v_type, v_model_id
    ) using p_image_ids, p_k;
end;
$$;
