{#- Within each group the column adds up to another column that is constant
    in the group, e.g. the counts of all values of an attribute (unknown
    included) add up to the number of images. -#}
{% test sum_equals_column(model, column_name, total_column, group_by) %}

with

sums as (
    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as total_actual,
        min({{ total_column }}) as total_expected_min,
        max({{ total_column }}) as total_expected_max
    from {{ model }}
    group by {{ group_by | join(', ') }}
)

select * from sums
where
    total_expected_min <> total_expected_max
    or total_actual <> total_expected_min

{% endtest %}
