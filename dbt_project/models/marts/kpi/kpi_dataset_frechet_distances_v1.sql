with

frechet as (
    select * from {{ ref('stg_atlas_knn__dataset_frechet') }}
),

models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

datasets_b as (
    select * from {{ ref('stg_atlas__datasets') }}
),

final as (
    select
        models.model_name::text as model_name,
        datasets.dataset_slug::text as dataset_slug_a,
        datasets_b.dataset_slug::text as dataset_slug_b,
        frechet.n_images_a::bigint as n_images_a,
        frechet.n_images_b::bigint as n_images_b,
        frechet.frechet_distance::double precision as frechet_distance
    from frechet
    inner join models
        on frechet.model_id = models.model_id
    inner join datasets
        on frechet.dataset_id_a = datasets.dataset_id
    inner join datasets_b
        on frechet.dataset_id_b = datasets_b.dataset_id
)

select * from final
