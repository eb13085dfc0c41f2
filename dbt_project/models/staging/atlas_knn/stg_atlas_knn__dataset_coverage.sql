with

source as (
    select * from {{ source('atlas_knn', 'dataset_coverage') }}
),

final as (
    select
        model_id,
        dataset_id,
        k,
        n_dataset,
        n_rest,
        n_dataset_sampled,
        n_rest_sampled,
        precision,
        recall,
        density,
        coverage,
        seed,
        computed_at
    from source
)

select * from final
