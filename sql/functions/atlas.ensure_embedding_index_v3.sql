-- Creates (if missing) the partial HNSW cosine index for one embedding model,
-- on the column its storage choice fills (as atlas.ensure_embedding_index_v2),
-- with a graph as dense as the model's size needs:
--   fewer than p_dense_from images -> m 16, ef_construction 64 (pgvector's defaults)
--   p_dense_from images or more    -> m 32, ef_construction 128
-- Why: on 1,000 clustered groups at 512 d, the default graph gives
-- recall@100 0.984 at 100k images but 0.78 at 1.14M (0.91 even with
-- hnsw.ef_search 800), because each cluster then holds ~1,100 images at
-- almost the same distance; m 32 / ef_construction 128 gives 0.95 at
-- ef_search 101 and 0.97 at 200 (bench/knn_field_scale.py, README).
-- An index built sparser than the model now needs is rebuilt: the new one
-- is built beside the old (which keeps answering reads meanwhile), then the
-- old is dropped and the new renamed, in one transaction. The build takes
-- about 2.6x as long as a default one (906 s against 350 s at 1.14M x 512 on
-- 2 cores); callers set maintenance_work_mem so the graph fits in memory.
-- Returns the index name, or null when the dimension is beyond HNSW's limit
-- for that type (such a model is searched exactly). Only integers and fixed
-- words are spliced into the DDL, so there is nothing to inject.
create or replace function atlas.ensure_embedding_index_v3(
    p_model_id integer,
    p_dense_from bigint default 250000
)
returns text
language plpgsql
as $$
declare
    v_dim integer;
    v_storage text;
    v_images bigint;
    v_m integer;
    v_ef_construction integer;
    v_options text[];
    v_index text := format('ix_embedding_hnsw_model_%s', p_model_id);
    v_building text := format('ix_embedding_hnsw_model_%s_building', p_model_id);
    v_column text;
    v_exists boolean;
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
    if v_dim > (case when v_storage = 'halfvec' then 4000 else 2000 end) then
        return null;
    end if;
    v_column := case
        when v_storage = 'halfvec'
            then format('(vec_half::halfvec(%s)) halfvec_cosine_ops', v_dim)
        else format('(vec::vector(%s)) vector_cosine_ops', v_dim)
    end;
    select count(*) into v_images
    from atlas.embedding as e
    where e.model_id = p_model_id;
    v_m := case when v_images >= p_dense_from then 32 else 16 end;
    v_ef_construction := case when v_images >= p_dense_from then 128 else 64 end;

    select coalesce(c.reloptions, '{}')
    into v_options
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where n.nspname = 'atlas' and c.relname = v_index;
    v_exists := found;
    if v_exists
        and coalesce((
            select split_part(o.opt, '=', 2)::integer
            from unnest(v_options) as o (opt)
            where o.opt like 'm=%'
        ), 16) >= v_m
        and coalesce((
            select split_part(o.opt, '=', 2)::integer
            from unnest(v_options) as o (opt)
            where o.opt like 'ef_construction=%'
        ), 64) >= v_ef_construction then
        return v_index;
    end if;

    execute format(
        'create index %I on atlas.embedding using hnsw (%s) '
        'with (m = %s, ef_construction = %s) where model_id = %s',
        case when v_exists then v_building else v_index end,
        v_column, v_m, v_ef_construction, p_model_id
    );
    if v_exists then
        execute format('drop index atlas.%I', v_index);
        execute format('alter index atlas.%I rename to %I', v_building, v_index);
    end if;
    return v_index;
end;
$$;
