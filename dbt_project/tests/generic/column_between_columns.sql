{#- lower <= column <= upper on every row where all three are set, with a
    tolerance for floating-point rounding. -#}
{% test column_between_columns(model, column_name, lower, upper, tolerance=1e-12) %}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and {{ lower }} is not null
    and {{ upper }} is not null
    and (
        {{ column_name }} < {{ lower }} - {{ tolerance }}
        or {{ column_name }} > {{ upper }} + {{ tolerance }}
    )

{% endtest %}
