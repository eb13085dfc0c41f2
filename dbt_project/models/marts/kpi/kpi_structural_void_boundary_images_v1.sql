with

boundary as (
    select * from {{ ref('int_void_boundary_images_described') }}
),

runs as (
    select * from {{ ref('stg_atlas__void_runs') }}
),

models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

final as (
    select
        models.model_name::text as model_name,
        boundary.void_rank::integer as void_rank,
        boundary.boundary_position::integer as boundary_position,
        boundary.image_id::bigint as image_id,
        boundary.dataset_slug::text as dataset_slug,
        boundary.source_key::text as source_key,
        boundary.modality::text as modality,
        boundary.icd10_block::text as icd10_block,
        boundary.icd10_code::text as icd10_code,
        boundary.diagnosis::text as diagnosis,
        boundary.fitzpatrick_group::text as fitzpatrick_group,
        boundary.age_bin::text as age_bin,
        boundary.sex::text as sex
    from boundary
    inner join runs
        on boundary.run_id = runs.run_id
    inner join models
        on runs.model_id = models.model_id
)

select * from final
