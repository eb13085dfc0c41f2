with

source as (
    select * from {{ source('atlas_knn', 'knn_edge') }}
),

all_images_scope as (
    select * from source
    where scope = 'all'
),

final as (
    select
        model_id,
        image_id,
        neighbour_rank::integer as neighbour_rank,
        neighbour_image_id,
        cosine_distance::double precision as cosine_distance,
        engine
    from all_images_scope
)

select * from final
