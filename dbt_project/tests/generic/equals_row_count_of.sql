{#- On every row (matching the optional where), the column equals the number
    of rows of another model: counts match their source. -#}
{% test equals_row_count_of(model, column_name, compare_model, where_clause=none) %}

with

expected as (
    select count(*) as n_expected from {{ compare_model }}
),

validation as (
    select
        tested.{{ column_name }} as n_actual,
        expected.n_expected
    from {{ model }} as tested
    cross join expected
    where
        tested.{{ column_name }} is distinct from expected.n_expected
        {%- if where_clause %}
        and ({{ where_clause }})
        {%- endif %}
)

select * from validation

{% endtest %}
