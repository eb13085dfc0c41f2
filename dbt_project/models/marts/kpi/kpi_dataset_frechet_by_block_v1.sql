{#- Domain shift inside one diagnosis group: the Fréchet distance between
    two datasets' fits of their images of one ICD-10 block, for the pairs
    where both hold at least frechet_block_min_images of it, beside the
    whole-dataset distance. -#}

with

by_block as (
    select * from {{ ref('stg_atlas_knn__dataset_frechet_by_block') }}
),

whole as (
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

enough as (
    select * from by_block
    where
        n_images_a >= {{ var('frechet_block_min_images') }}
        and n_images_b >= {{ var('frechet_block_min_images') }}
),

final as (
    select
        models.model_name::text as model_name,
        enough.icd10_block::text as icd10_block,
        datasets.dataset_slug::text as dataset_slug_a,
        datasets_b.dataset_slug::text as dataset_slug_b,
        enough.n_images_a::bigint as n_images_a,
        enough.n_images_b::bigint as n_images_b,
        enough.frechet_distance::double precision as frechet_distance,
        whole.frechet_distance::double precision as frechet_distance_whole_datasets
    from enough
    inner join models
        on enough.model_id = models.model_id
    inner join datasets
        on enough.dataset_id_a = datasets.dataset_id
    inner join datasets_b
        on enough.dataset_id_b = datasets_b.dataset_id
    left join whole
        on
            enough.model_id = whole.model_id
            and enough.dataset_id_a = whole.dataset_id_a
            and enough.dataset_id_b = whole.dataset_id_b
)

select * from final
