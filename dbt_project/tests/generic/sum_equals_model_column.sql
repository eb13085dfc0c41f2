{#- A breakdown adds up to its total: within each group the column, summed,
    equals the column of another model that has one row per group (e.g. the
    per-dataset counts of a value add up to its atlas count). Groups missing
    on either side fail too. -#}
{% test sum_equals_model_column(model, column_name, group_by, compare_model, compare_column=none) %}

with

sums as (
    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as total_actual
    from {{ model }}
    group by {{ group_by | join(', ') }}
),

expected as (
    select
        {{ group_by | join(', ') }},
        {{ compare_column or column_name }} as total_expected
    from {{ compare_model }}
)

select
    sums.total_actual,
    expected.total_expected
from sums
full outer join expected
    on
    {%- for column in group_by %}
        {{ 'and ' if not loop.first }}sums.{{ column }} = expected.{{ column }}
    {%- endfor %}
where sums.total_actual is distinct from expected.total_expected

{% endtest %}
