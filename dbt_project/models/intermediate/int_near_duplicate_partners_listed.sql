{{ config(post_hook='analyze {{ this }}') }}

{#- Each image of a verified near (or exact) duplicate pair, once per dataset
    its partners come from: what redundancy and overlap count. -#}

with

pairs as (
    select * from {{ ref('int_embedding_pairs_within_threshold') }}
),

directed as (
    select
        model_id,
        image_id_a as image_id,
        dataset_id_a as dataset_id,
        dataset_id_b as partner_dataset_id
    from pairs
    union all
    select
        model_id,
        image_id_b as image_id,
        dataset_id_b as dataset_id,
        dataset_id_a as partner_dataset_id
    from pairs
),

final as (
    select distinct
        model_id,
        image_id,
        dataset_id,
        partner_dataset_id
    from directed
)

select * from final
