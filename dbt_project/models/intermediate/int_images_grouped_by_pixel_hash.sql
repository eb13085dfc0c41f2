{{ config(materialized='view') }}

with

images as (
    select * from {{ ref('stg_atlas__images') }}
),

hashed_images as (
    select * from images
    where pixel_sha256 is not null
),

grouped as (
    select
        pixel_sha256,
        count(*) as n_images,
        count(distinct dataset_id) as n_datasets,
        array_agg(image_id order by image_id) as image_ids,
        array_agg(distinct dataset_id order by dataset_id) as dataset_ids
    from hashed_images
    group by pixel_sha256
),

final as (
    select * from grouped
)

select * from final
