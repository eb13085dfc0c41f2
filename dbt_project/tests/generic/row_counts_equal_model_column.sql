{#- A list agrees with its counts: the model's rows counted per group equal
    a count column of another model with one row per group (a group the
    model lacks counts 0; a group the other model lacks fails). -#}
{% test row_counts_equal_model_column(model, group_by, compare_model, compare_column,
                                      compare_where=none) %}

with

counted as (
    select
        {{ group_by | join(', ') }},
        count(*) as n_actual
    from {{ model }}
    group by {{ group_by | join(', ') }}
),

expected as (
    select
        {{ group_by | join(', ') }},
        {{ compare_column }} as n_expected
    from {{ compare_model }}
    {%- if compare_where %}
    where {{ compare_where }}
    {%- endif %}
)

select
    counted.n_actual,
    expected.n_expected
from counted
full outer join expected
    on
    {%- for column in group_by %}
        {{ 'and ' if not loop.first }}counted.{{ column }} = expected.{{ column }}
    {%- endfor %}
where coalesce(counted.n_actual, 0) is distinct from expected.n_expected

{% endtest %}
