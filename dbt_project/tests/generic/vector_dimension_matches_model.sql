{#- Each vector has its embedding model's dimension (vectors of all models
    share one untyped column, so the table cannot check it). -#}
{% test vector_dimension_matches_model(model, models_model, vector_column='vec') %}

select tested.*
from {{ model }} as tested
inner join {{ models_model }} as models
    on tested.model_id = models.model_id
where vector_dims(tested.{{ vector_column }}) <> models.dimension

{% endtest %}
