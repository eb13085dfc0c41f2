{#- Counts match their source: the column summed over the rows matching
    the optional where equals the number of rows of another model (e.g. the
    per-dataset image counts add up to the images table). -#}
{% test sum_equals_row_count_of(model, column_name, compare_model, where_clause=none) %}

with

actual as (
    select coalesce(sum({{ column_name }}), 0) as n_actual
    from {{ model }}
    {%- if where_clause %}
    where {{ where_clause }}
    {%- endif %}
),

expected as (
    select count(*) as n_expected from {{ compare_model }}
)

select * from actual
cross join expected
where actual.n_actual <> expected.n_expected

{% endtest %}
