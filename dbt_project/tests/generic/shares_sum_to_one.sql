{#- Within each group (e.g. attribute) the non-NULL shares add up to 1.
    Groups without any non-NULL share (nothing known) are not checked. -#}
{% test shares_sum_to_one(model, column_name, group_by, tolerance=1e-9) %}

with

sums as (
    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as total_share
    from {{ model }}
    group by {{ group_by | join(', ') }}
)

select * from sums
where
    total_share is not null
    and abs(total_share - 1) > {{ tolerance }}

{% endtest %}
