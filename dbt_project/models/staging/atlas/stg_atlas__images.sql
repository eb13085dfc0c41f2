with

source as (
    select * from {{ source('atlas', 'image') }}
),

ok_images as (
    select * from source
    where status = 'ok'
),

final as (
    select
        image_id,
        dataset_id,
        source_key,
        file_path,
        byte_sha256,
        pixel_sha256,
        width,
        height,
        modality,
        release_year::integer as release_year,
        patient_id,
        lesion_id,
        source_image_id,
        ingested_at
    from ok_images
)

select * from final
