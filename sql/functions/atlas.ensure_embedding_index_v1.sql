-- Creates (if missing) the partial HNSW cosine index for one embedding model.
-- Vectors of all models share atlas.embedding.vec (untyped `vector`); an
-- index needs a fixed dimension, so each model gets an expression index on
-- vec::vector(dim) restricted to its rows. Queries use the same expression:
--   order by vec::vector(1280) <=> :q limit k   ... where model_id = :id
-- Only integers are spliced into the DDL, so there is nothing to inject.
create or replace function atlas.ensure_embedding_index_v1(p_model_id integer)
returns text
language plpgsql
as $$
declare
    v_dim integer;
    v_index text := format('ix_embedding_hnsw_model_%s', p_model_id);
begin
    select m.dimension into v_dim
    from atlas.embedding_model as m
    where m.model_id = p_model_id;
    if v_dim is null then
        raise exception 'unknown embedding model id %', p_model_id;
    end if;
    if v_dim > 2000 then
        -- pgvector's HNSW index on `vector` stops at 2,000 dimensions.
        return null;
    end if;
    execute format(
        'create index if not exists %I on atlas.embedding '
        'using hnsw ((vec::vector(%s)) vector_cosine_ops) where model_id = %s',
        v_index, v_dim, p_model_id
    );
    return v_index;
end;
$$;
