{#- Within each group two columns add up to the same total, up to a
    tolerance for floating-point rounding (e.g. observed and expected
    counts of a contingency table). -#}
{% test sums_agree(model, column_name, other_column, group_by, tolerance=1e-6) %}

with

sums as (
    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as total_actual,
        sum({{ other_column }}) as total_other
    from {{ model }}
    group by {{ group_by | join(', ') }}
)

select * from sums
where
    total_actual is null
    or total_other is null
    or abs(total_actual - total_other) > {{ tolerance }}

{% endtest %}
