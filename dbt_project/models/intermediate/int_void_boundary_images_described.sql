with

boundary as (
    select * from {{ ref('stg_atlas__void_boundary_images') }}
),

images as (
    select * from {{ ref('stg_atlas__images') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

metadata as (
    select * from {{ ref('stg_atlas__image_metadata') }}
),

final as (
    select
        boundary.run_id,
        boundary.void_rank,
        boundary.boundary_position,
        boundary.image_id,
        datasets.dataset_slug,
        images.source_key,
        images.modality,
        coalesce(metadata.icd10_block, 'unknown') as icd10_block,
        metadata.icd10_code,
        metadata.diagnosis,
        coalesce(metadata.fitzpatrick_group, 'unknown') as fitzpatrick_group,
        coalesce(metadata.age_bin, 'unknown') as age_bin,
        coalesce(metadata.sex, 'unknown') as sex
    from boundary
    inner join images
        on boundary.image_id = images.image_id
    inner join datasets
        on images.dataset_id = datasets.dataset_id
    left join metadata
        on boundary.image_id = metadata.image_id
)

select * from final
