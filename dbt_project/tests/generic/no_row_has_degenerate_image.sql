{#- No pair of the model (of those where_clause keeps) involves a degenerate
    image (flat, striped, no information): such images are reported by the
    quality views, not as duplicates. -#}
{% test no_row_has_degenerate_image(model, where_clause=none) %}

select pairs.*
from {{ model }} as pairs
inner join {{ ref('int_images_quality_flagged') }} as quality
    on quality.image_id in (pairs.image_id_a, pairs.image_id_b)
where
    quality.is_degenerate
    {% if where_clause %}and ({{ where_clause }}){% endif %}

{% endtest %}
