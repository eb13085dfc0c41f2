{{ config(post_hook='analyze {{ this }}') }}

{#- Each image of an identity pair (int_identity_pairs_evidenced), once per
    evidence, model and dataset its partners come from, with the evidence
    that found a partner there: what the overlap and redundancy v2 views
    count. -#}

with

pairs as (
    select * from {{ ref('int_identity_pairs_evidenced') }}
),

directed as (
    select
        evidence,
        model_id,
        model_name,
        image_id_a as image_id,
        dataset_id_a as dataset_id,
        dataset_id_b as partner_dataset_id,
        is_by_source_id,
        is_by_exact_pixels,
        is_by_near_duplicate
    from pairs
    union all
    select
        evidence,
        model_id,
        model_name,
        image_id_b as image_id,
        dataset_id_b as dataset_id,
        dataset_id_a as partner_dataset_id,
        is_by_source_id,
        is_by_exact_pixels,
        is_by_near_duplicate
    from pairs
),

final as (
    select
        evidence,
        model_id,
        model_name,
        image_id,
        dataset_id,
        partner_dataset_id,
        bool_or(is_by_source_id) as is_by_source_id,
        bool_or(is_by_exact_pixels) as is_by_exact_pixels,
        bool_or(is_by_near_duplicate) as is_by_near_duplicate
    from directed
    group by evidence, model_id, model_name, image_id, dataset_id, partner_dataset_id
)

select * from final
