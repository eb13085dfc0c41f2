{#- Where two models define the same count, they agree row by row: the
    column of the rows matching where_clause equals compare_expression of
    compare_model's row with the same join_columns (e.g. a v2 variant that
    coincides with v1). Rows missing on either side fail too. -#}
{% test matches_model_rows(
    model, column_name, compare_model, compare_expression, join_columns,
    where_clause=none, compare_where=none
) %}

with

actual as (
    select
        {{ join_columns | join(', ') }},
        {{ column_name }} as value_actual
    from {{ model }}
    {%- if where_clause %}
    where {{ where_clause }}
    {%- endif %}
),

expected as (
    select
        {{ join_columns | join(', ') }},
        {{ compare_expression }} as value_expected
    from {{ compare_model }}
    {%- if compare_where %}
    where {{ compare_where }}
    {%- endif %}
)

select
    actual.value_actual,
    expected.value_expected
from actual
full outer join expected
    on
    {%- for column in join_columns %}
        {{ 'and ' if not loop.first }}actual.{{ column }} = expected.{{ column }}
    {%- endfor %}
where actual.value_actual is distinct from expected.value_expected

{% endtest %}
