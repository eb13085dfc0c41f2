{#- Every row's key (columns, none NULL) is a row of `to` (parent_columns,
    in the same order): the check a foreign key made per inserted row, made
    once per build instead. The kNN tables carry no foreign keys (alembic
    i5_09): they are written millions of rows at a time. -#}
{% test rows_have_parent(model, columns, to, parent_columns) %}

select tested.*
from {{ model }} as tested
where not exists (
    select
    from {{ to }} as parent
    where
        {%- for column in columns %}
        {{ 'and ' if not loop.first }}parent.{{ parent_columns[loop.index0] }} = tested.{{ column }}
        {%- endfor %}
)

{% endtest %}
