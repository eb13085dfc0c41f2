{#- dbt-postgres' create_table_as, plus an optional `storage_parameters`
    config rendered as `with (...)`. The neighbour steps set
    toast_tuple_target = 8160 on the table of vectors: a 1280-d vector is
    about 5 kB, which PostgreSQL would otherwise move out of line (TOAST),
    and de-TOASTing it on every row of every exact kNN scan made those scans
    about 9x slower (13.4 s against 1.5 s for 1,700 x 1,700 pairs). -#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
    {%- set unlogged = config.get('unlogged', default=false) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {%- set storage_parameters = config.get('storage_parameters', {}) -%}
    {%- set with_clause -%}
        {%- if storage_parameters -%}
            with (
            {%- for key, value in storage_parameters.items() -%}
                {{ key }} = {{ value }}{{ ', ' if not loop.last }}
            {%- endfor -%}
            )
        {%- endif -%}
    {%- endset %}

    {{ sql_header if sql_header is not none }}

    create {% if temporary -%}
        temporary
    {%- elif unlogged -%}
        unlogged
    {%- endif %} table {{ relation }}
    {% set contract_config = config.get('contract') %}
    {% if contract_config.enforced %}
        {{ get_assert_columns_equivalent(sql) }}
    {% endif -%}
    {% if contract_config.enforced and (not temporary) -%}
        {{ get_table_columns_and_constraints() }} {{ with_clause }};
        insert into {{ relation }} (
            {{ adapter.dispatch('get_column_names', 'dbt')() }}
        )
        {%- set sql = get_select_subquery(sql) %}
    {% else %}
        {{ with_clause }} as
    {% endif %}
    (
        {{ sql }}
    );
{%- endmacro %}
