-- Creates (if missing) the partial HNSW cosine index for one embedding model,
-- on the column its storage choice (atlas.embedding_model.storage) fills:
--   'vector'  -> vec::vector(dim)           vector_cosine_ops  (up to 2,000 d)
--   'halfvec' -> vec_half::halfvec(dim)     halfvec_cosine_ops (up to 4,000 d)
-- Queries use the same expression and the model id as a literal, e.g.
--   order by vec_half::halfvec(1280) <=> :q::halfvec(1280) ... where model_id = 7
-- Returns the index name, or null when the dimension is beyond HNSW's limit
-- for that type (such a model is searched exactly). Only integers and fixed
-- words are spliced into the DDL, so there is nothing to inject.
create or replace function atlas.ensure_embedding_index_v2(p_model_id integer)
returns text
language plpgsql
as $$
declare
    v_dim integer;
    v_storage text;
    v_index text := format('ix_embedding_hnsw_model_%s', p_model_id);
begin
    select
        m.dimension,
        m.storage
    into v_dim, v_storage
    from atlas.embedding_model as m
    where m.model_id = p_model_id;
    if v_dim is null then
        raise exception 'unknown embedding model id %', p_model_id;
    end if;
    if v_storage = 'halfvec' then
        if v_dim > 4000 then
            return null;
        end if;
        execute format(
            'create index if not exists %I on atlas.embedding '
            'using hnsw ((vec_half::halfvec(%s)) halfvec_cosine_ops) '
            'where model_id = %s',
            v_index, v_dim, p_model_id
        );
        return v_index;
    end if;
    if v_dim > 2000 then
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
