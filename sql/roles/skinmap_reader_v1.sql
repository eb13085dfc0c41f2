-- The read-only group role for BI tools and analysts: it can read the views
-- of schema `kpi` and nothing else (no raw tables, no file paths, no work
-- queue, no writes). Logins are its members (`skinmap db grant-reader NAME`).
-- Roles belong to the whole server, not one database, so the role may exist
-- already (another atlas on the same server): create it only when missing.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'skinmap_reader') then
        create role skinmap_reader nologin;
    end if;
end;
$$;
