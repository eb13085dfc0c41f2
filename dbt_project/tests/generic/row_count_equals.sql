{#- The model has exactly this many rows (e.g. a one-row headline). -#}
{% test row_count_equals(model, n_rows) %}

select n_actual
from (select count(*) as n_actual from {{ model }}) as counted
where n_actual <> {{ n_rows }}

{% endtest %}
