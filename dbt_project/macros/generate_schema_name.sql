{#- Use the folder's schema literally (staging, intermediate, kpi) instead
    of dbt's default <target_schema>_<custom_schema>. A full `skinmap build`
    sets the variable schema_suffix (`__next`): every model is built beside
    the live schemas, which skinmap.build_swap then swaps in at once, so
    readers never see a view dropped or half rebuilt. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}{{ var('schema_suffix', '') }}
    {%- endif -%}
{%- endmacro %}
