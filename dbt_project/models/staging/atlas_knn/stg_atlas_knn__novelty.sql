with

source as (
    select * from {{ source('atlas_knn', 'knn_novelty') }}
),

earlier_years_scope as (
    select * from source
    where scope = 'earlier_years'
),

final as (
    select
        model_id,
        cutoff_year::integer as cutoff_year,
        image_id,
        k,
        n_neighbours,
        novelty,
        engine
    from earlier_years_scope
)

select * from final
