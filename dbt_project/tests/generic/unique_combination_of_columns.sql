{#- The grain test: no two rows share the same values of these columns
    (NULLs compare equal here, so a NULL key part also fails uniqueness). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

validation as (
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
)

select * from validation

{% endtest %}
