-- The k images closest to one image (cosine distance, one embedding model),
-- for analysts, for both storages (atlas.embedding_model.storage):
--   select * from atlas.nearest_images_v2(42, 'efficientnet-lite0/imagenet', 5);
-- v1 read only atlas.embedding.vec, so halfvec models got nothing. v2 orders
-- by the model's own column with the expression of its partial HNSW index
-- (atlas.ensure_embedding_index_v2: vec::vector(dim) or
-- vec_half::halfvec(dim)), so the planner can use that index: then the
-- search is approximate (hnsw.ef_search = max(40, k), iterative scan in
-- strict order, as the knn sql engine), otherwise exact. Distances of a
-- halfvec model come from its float16 values.
-- Arguments are values, never spliced into SQL text; only the integers
-- model_id and dimension and fixed words are formatted into the query.
-- Quarantined images are left out; the image itself is not its neighbour.
-- The search settings belong to the call (SET clauses: the caller's values
-- come back on exit; the names are quoted only for sqlfluff's parser).
create or replace function atlas.nearest_images_v2(
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
set "hnsw.ef_search" = 40
set "hnsw.iterative_scan" = 'strict_order'
as $$
declare
    v_model_id integer;
    v_vec_expr text;
    v_has_vec boolean;
begin
    select c.model_id, format('e.%s::%s', c.column_name, c.type_name)
    into v_model_id, v_vec_expr
    from atlas.model_vector_column_v1(p_model_name) as c;
    execute format(
        'select %s is not null from atlas.embedding as e '
        'where e.model_id = %s and e.image_id = $1',
        v_vec_expr, v_model_id
    ) into v_has_vec using p_image_id;
    if v_has_vec is not true then
        raise exception 'image % has no embedding of model %', p_image_id, p_model_name;
    end if;
    perform set_config(
        'hnsw.ef_search', least(greatest(p_k, 40), 1000)::text, true
    );
    return query execute format(
        'with probe as materialized ('
        '    select %1$s as vec from atlas.embedding as e'
        '    where e.model_id = %2$s and e.image_id = $1'
        ') '
        'select e.image_id, d.slug, i.release_year,'
        '    (%1$s <=> (select p.vec from probe as p))::double precision '
        'from atlas.embedding as e '
        'inner join atlas.image as i on e.image_id = i.image_id '
        'inner join atlas.dataset as d on i.dataset_id = d.dataset_id '
        'where e.model_id = %2$s and e.image_id <> $1 and i.status = ''ok'' '
        'order by %1$s <=> (select p.vec from probe as p), e.image_id '
        'limit $2',
        v_vec_expr, v_model_id
    ) using p_image_id, greatest(p_k, 0);
end;
$$;
