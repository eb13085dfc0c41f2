{{ config(
    pre_hook='set local enable_indexscan = off',
    post_hook='analyze {{ this }}',
) }}

{#- Each image's near_duplicate_candidates_k nearest images of the same
    model by cosine distance, exact: a full scan with a top-k sort (the
    table has no vector index, index scans are off, and the order by has
    a tie-breaker that no index could serve). -#}

with

query_images as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

reference_images as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

neighbours as (
    select
        query_images.model_id,
        query_images.model_name,
        query_images.image_id,
        nearest.neighbour_image_id,
        nearest.cosine_distance
    from query_images
    cross join lateral (
        select
            reference_images.image_id as neighbour_image_id,
            reference_images.vec <=> query_images.vec as cosine_distance
        from reference_images
        where
            reference_images.model_id = query_images.model_id
            and reference_images.image_id <> query_images.image_id
        order by cosine_distance asc, neighbour_image_id asc
        limit {{ var('near_duplicate_candidates_k') }}
    ) as nearest
),

ranked as (
    select
        model_id,
        model_name,
        image_id,
        neighbour_image_id,
        cosine_distance,
        row_number() over (
            partition by model_id, image_id
            order by cosine_distance asc, neighbour_image_id asc
        ) as neighbour_rank
    from neighbours
),

final as (
    select * from ranked
)

select * from final
