{#- Each near-duplicate pair is ordered (a < b) and passes the check that
    verified it: exact (pixel-hash) duplicates always; otherwise cosine
    distance <= tau and either the local-feature verdict (n_inliers >= m) or,
    without one, the pixel signature (>= sigma). A model without the
    verified_by column (kpi_near_duplicate_pairs v1) is checked on order and
    distance only. -#}
{% test near_duplicate_pairs_are_verified(model, has_verdict=true) %}

select *
from {{ model }}
where
    not image_id_a < image_id_b
    or not (
        is_exact_duplicate
        or (
            cosine_distance <= {{ var('near_duplicate_max_distance') }}
            {% if has_verdict %}
                and (
                    (
                        verified_by = 'local_features'
                        and n_inliers >= {{ var('near_duplicate_min_inliers') }}
                    )
                    or (
                        verified_by = 'pixel_signature'
                        and n_inliers is null
                        and signature_similarity
                        >= {{ var('near_duplicate_min_signature_similarity') }}
                    )
                )
            {% endif %}
        )
    )

{% endtest %}
