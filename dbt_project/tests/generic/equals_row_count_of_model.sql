{#- The model has as many rows as another model (e.g. one row per usable
    image). -#}
{% test equals_row_count_of_model(model, compare_model) %}

with

actual as (
    select count(*) as n_actual from {{ model }}
),

expected as (
    select count(*) as n_expected from {{ compare_model }}
)

select * from actual
cross join expected
where actual.n_actual <> expected.n_expected

{% endtest %}
