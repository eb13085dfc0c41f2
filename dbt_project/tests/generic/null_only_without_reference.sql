{#- A per-year measure is NULL exactly when there is nothing to compare
    with: NULL when n_reference < min_reference (the first year has none;
    a baseline needs 2 earlier images, as each leaves itself out), set
    otherwise. NULL, never 0. -#}
{% test null_only_without_reference(model, column_name, n_reference_column='n_reference', min_reference=1) %}

select *
from {{ model }}
where
    ({{ n_reference_column }} < {{ min_reference }} and {{ column_name }} is not null)
    or ({{ n_reference_column }} >= {{ min_reference }} and {{ column_name }} is null)

{% endtest %}
