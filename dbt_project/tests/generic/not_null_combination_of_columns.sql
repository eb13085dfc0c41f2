{#- Every column of a composite key is set. -#}
{% test not_null_combination_of_columns(model, combination_of_columns) %}

select *
from {{ model }}
where
{%- for column in combination_of_columns %}
    {{ 'or ' if not loop.first }}{{ column }} is null
{%- endfor %}

{% endtest %}
