{{ config(materialized='view') }}

with

images as (
    select * from {{ ref('stg_atlas__images') }}
),

image_metadata as (
    select * from {{ ref('stg_atlas__image_metadata') }}
),

final as (
    select
        images.image_id,
        coalesce(image_metadata.icd10_block, 'unknown') as diagnosis_group,
        coalesce(image_metadata.fitzpatrick_group, 'unknown') as fitzpatrick_group,
        coalesce(image_metadata.age_bin, 'unknown') as age_bin
    from images
    left join image_metadata
        on images.image_id = image_metadata.image_id
)

select * from final
