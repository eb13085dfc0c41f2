{#- Each near-duplicate pair is ordered (a < b) and passes the thresholds
    in force: cosine distance <= tau and signature similarity >= sigma,
    unless the two images are exact (pixel-hash) duplicates. -#}
{% test near_duplicate_pairs_are_verified(model) %}

select *
from {{ model }}
where
    not image_id_a < image_id_b
    or not (
        is_exact_duplicate
        or (
            cosine_distance <= {{ var('near_duplicate_max_distance') }}
            and signature_similarity >= {{ var('near_duplicate_min_signature_similarity') }}
        )
    )

{% endtest %}
