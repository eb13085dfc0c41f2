-- Where one embedding model's vectors live and the type its partial HNSW
-- index reads (atlas.embedding_model.storage: vec as vector(dim), or
-- vec_half as halfvec(dim); atlas.ensure_embedding_index_v2). The analyst
-- helpers (v2) order by exactly that expression, so the planner can use the
-- index. One lookup for all of them; an unknown model name raises.
create or replace function atlas.model_vector_column_v1(p_model_name text)
returns table (model_id integer, column_name text, type_name text)
language plpgsql
stable
as $$
begin
    return query
    select
        m.model_id,
        case when m.storage = 'halfvec' then 'vec_half' else 'vec' end,
        format(
            '%s(%s)',
            case when m.storage = 'halfvec' then 'halfvec' else 'vector' end,
            m.dimension
        )
    from atlas.embedding_model as m
    where m.model_name = p_model_name;
    if not found then
        raise exception 'unknown embedding model %', p_model_name
            using hint = 'select model_name from atlas.embedding_model';
    end if;
end;
$$;
