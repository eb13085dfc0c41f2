{#- One model holds a breakdown and its total: the column summed over the
    part rows equals total_column on the single total row (e.g. per-dataset
    counts add up to the atlas row). No total row fails too. -#}
{% test parts_add_up_to_total(model, column_name, parts_where, total_where, total_column=none) %}

with

parts as (
    select coalesce(sum({{ column_name }}), 0) as total_of_parts
    from {{ model }}
    where {{ parts_where }}
),

totals as (
    select {{ total_column or column_name }} as total_stated
    from {{ model }}
    where {{ total_where }}
),

validation as (
    select
        parts.total_of_parts,
        totals.total_stated
    from parts
    left join totals
        on true
    where totals.total_stated is distinct from parts.total_of_parts
)

select * from validation

{% endtest %}
