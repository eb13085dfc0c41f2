-- The kNN tables' rows of deleted images and models go with them. These
-- tables (atlas.knn_edge, knn_novelty, knn_novelty_list, knn_ivf_cell) are
-- derived from atlas.embedding and written millions of rows at a time, so
-- they carry no per-row foreign keys (migration i5_09): a foreign key check
-- made each inserted row cost 4.5 times as much. This statement-level
-- trigger gives back what ON DELETE CASCADE did, in one set-based delete per
-- table and statement (the cascade scanned knn_edge once per deleted image).
-- The engines only ever write embedded images; dbt's source tests check it.
create or replace function atlas.forget_knn_rows_v1()
returns trigger
language plpgsql
as $$
begin
    if tg_op = 'TRUNCATE' then
        truncate atlas.knn_edge, atlas.knn_novelty, atlas.knn_novelty_list, atlas.knn_ivf_cell;
    elsif tg_table_name = 'image' then
        delete from atlas.knn_edge as e
        using gone as g
        where e.image_id = g.image_id or e.neighbour_image_id = g.image_id;
        delete from atlas.knn_novelty as n using gone as g where n.image_id = g.image_id;
        delete from atlas.knn_novelty_list as l using gone as g where l.image_id = g.image_id;
        delete from atlas.knn_ivf_cell as c using gone as g where c.image_id = g.image_id;
    else
        delete from atlas.knn_edge as e using gone as g where e.model_id = g.model_id;
        delete from atlas.knn_novelty as n using gone as g where n.model_id = g.model_id;
        delete from atlas.knn_novelty_list as l using gone as g where l.model_id = g.model_id;
        delete from atlas.knn_ivf_cell as c using gone as g where c.model_id = g.model_id;
    end if;
    return null;
end;
$$;
