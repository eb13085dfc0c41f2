-- Gives skinmap_reader read access to every view of schema `kpi`, now and
-- later. dbt creates `kpi` and drops and recreates its views on every run,
-- so this function is run by the migration and again by dbt's on-run-end
-- hook (dbt_project.yml); default privileges of the role that owns `kpi`
-- cover views created between two runs. No dynamic SQL: only fixed names.
create or replace function atlas.grant_kpi_reader_v1()
returns void
language plpgsql
as $$
begin
    create schema if not exists kpi;
    grant usage on schema kpi to skinmap_reader;
    grant select on all tables in schema kpi to skinmap_reader;
    alter default privileges in schema kpi
        grant select on tables to skinmap_reader;
    revoke create on schema kpi from public;
end;
$$;
