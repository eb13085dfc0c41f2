-- The k images closest to a stored text vector (atlas.text_vector: e.g. the
-- open_clip text embedding of "a photo of melanoma on dark skin"), cosine
-- distance within the text vector's model, for both storages
-- (atlas.embedding_model.storage):
--   select * from atlas.images_nearest_text_v2('ViT-B-16', 'melanoma', 20);
-- v1 read only atlas.embedding.vec, so halfvec models got nothing. v2 orders
-- by the model's own column with the expression of its partial HNSW index
-- (vec::vector(dim) or vec_half::halfvec(dim); the text vector is cast to
-- the same type), so the planner can use that index: then the search is
-- approximate (hnsw.ef_search = max(40, k), iterative scan in strict
-- order), otherwise exact.
-- The label is looked up as a value, never spliced into SQL text; only the
-- integers model_id and dimension and fixed words are formatted into the
-- query.
-- The search settings belong to the call (SET clauses: the caller's values
-- come back on exit; the names are quoted only for sqlfluff's parser).
create or replace function atlas.images_nearest_text_v2(
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
set "hnsw.ef_search" = 40
set "hnsw.iterative_scan" = 'strict_order'
as $$
declare
    v_model_id integer;
    v_vec vector;
    v_column text;
    v_type text;
begin
    select c.model_id, c.column_name, c.type_name
    into v_model_id, v_column, v_type
    from atlas.model_vector_column_v1(p_model_name) as c;
    select t.vec into v_vec
    from atlas.text_vector as t
    where t.model_id = v_model_id and t.label = p_label;
    if v_vec is null then
        raise exception 'no text vector % for model %', p_label, p_model_name
            using hint = 'select model_id, label from atlas.text_vector';
    end if;
    perform set_config(
        'hnsw.ef_search', least(greatest(p_k, 40), 1000)::text, true
    );
    return query execute format(
        'select e.image_id, d.slug, i.release_year,'
        '    (e.%1$s::%2$s <=> $1::%2$s)::double precision '
        'from atlas.embedding as e '
        'inner join atlas.image as i on e.image_id = i.image_id '
        'inner join atlas.dataset as d on i.dataset_id = d.dataset_id '
        'where e.model_id = %3$s and i.status = ''ok'' '
        'order by e.%1$s::%2$s <=> $1::%2$s, e.image_id '
        'limit $2',
        v_column,
        v_type,
        v_model_id
    ) using v_vec, greatest(p_k, 0);
end;
$$;
