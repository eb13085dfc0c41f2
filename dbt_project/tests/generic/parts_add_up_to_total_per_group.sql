{#- parts_add_up_to_total within each group (e.g. per embedding model):
    in every group that has a total row, the column summed over the part
    rows equals the total row's; a group with parts and no total fails. -#}
{% test parts_add_up_to_total_per_group(model, column_name, group_by, parts_where, total_where) %}

with

parts as (
    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as total_of_parts
    from {{ model }}
    where {{ parts_where }}
    group by {{ group_by | join(', ') }}
),

totals as (
    select
        {{ group_by | join(', ') }},
        {{ column_name }} as total_stated
    from {{ model }}
    where {{ total_where }}
),

validation as (
    select
        parts.total_of_parts,
        totals.total_stated
    from parts
    full outer join totals
        on
        {%- for column in group_by %}
            {{ 'and ' if not loop.first }}parts.{{ column }} = totals.{{ column }}
        {%- endfor %}
    where totals.total_stated is distinct from parts.total_of_parts
)

select * from validation

{% endtest %}
