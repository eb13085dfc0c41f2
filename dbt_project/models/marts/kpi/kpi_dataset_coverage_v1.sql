{#- Precision, recall, density and coverage (Naeem et al. 2020) of each
    dataset against the rest of the atlas, per model (skinmap knn). -#}

with

coverage as (
    select * from {{ ref('stg_atlas_knn__dataset_coverage') }}
),

models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

final as (
    select
        models.model_name::text as model_name,
        datasets.dataset_slug::text as dataset_slug,
        coverage.k::integer as k,
        coverage.n_dataset::bigint as n_dataset,
        coverage.n_rest::bigint as n_rest,
        coverage.n_dataset_sampled::bigint as n_dataset_sampled,
        coverage.n_rest_sampled::bigint as n_rest_sampled,
        -- the paper's name for it, though a keyword in PostgreSQL's type names
        coverage.precision::double precision as precision,  -- noqa: RF04
        coverage.recall::double precision as recall,
        coverage.density::double precision as density,
        coverage.coverage::double precision as coverage
    from coverage
    inner join models
        on coverage.model_id = models.model_id
    inner join datasets
        on coverage.dataset_id = datasets.dataset_id
)

select * from final
