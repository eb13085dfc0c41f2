with

source as (
    select * from {{ source('atlas_knn', 'dataset_frechet_by_block') }}
),

final as (
    select
        model_id,
        icd10_block,
        dataset_id_a,
        dataset_id_b,
        n_images_a,
        n_images_b,
        frechet_distance,
        computed_at
    from source
)

select * from final
