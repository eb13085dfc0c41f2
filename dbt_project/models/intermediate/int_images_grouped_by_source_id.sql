{{ config(materialized='view') }}

{#- Images that share a source id, one row per id: more than one image
    under an id means the same image published by several datasets (or
    twice by one). -#}

with

images as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

identified_images as (
    select * from images
    where source_image_id is not null
),

grouped as (
    select
        source_image_id,
        count(*) as n_images,
        count(distinct dataset_id) as n_datasets,
        min(image_id) filter (where is_identity_representative) as representative_image_id,
        array_agg(image_id order by image_id) as image_ids,
        array_agg(distinct dataset_id order by dataset_id) as dataset_ids
    from identified_images
    group by source_image_id
),

final as (
    select * from grouped
)

select * from final
