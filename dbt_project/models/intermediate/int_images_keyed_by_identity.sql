{{ config(post_hook='analyze {{ this }}') }}

{#- One row per usable image with the keys that say which rows are one
    image, one lesion, one person, without pixels or vectors: the shared
    source id (identity_key falls back to the row itself), and lesion and
    patient ids namespaced by their dataset unless they are ISIC archive ids
    (vars shared_lesion_id_pattern, shared_patient_id_pattern). The
    representative of an identity key is its earliest released copy (release
    year, then dataset release order, then image id). -#}

with

images as (
    select * from {{ ref('stg_atlas__images') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

dataset_order as (
    select
        dataset_id,
        dataset_slug,
        row_number() over (
            order by dataset_release_year asc nulls last, dataset_id asc
        ) as dataset_release_order
    from datasets
),

keyed as (
    select
        images.image_id,
        images.dataset_id,
        dataset_order.dataset_slug,
        dataset_order.dataset_release_order,
        images.release_year,
        images.source_key,
        images.source_image_id,
        coalesce(images.source_image_id, 'image:' || images.image_id::text) as identity_key,
        images.lesion_id,
        case
            when images.lesion_id ~ '{{ var("shared_lesion_id_pattern") }}'
                then images.lesion_id
            else dataset_order.dataset_slug || ':' || images.lesion_id
        end as lesion_key,
        images.patient_id,
        case
            when images.patient_id ~ '{{ var("shared_patient_id_pattern") }}'
                then images.patient_id
            else dataset_order.dataset_slug || ':' || images.patient_id
        end as patient_key
    from images
    inner join dataset_order
        on images.dataset_id = dataset_order.dataset_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by identity_key
            order by release_year asc nulls last, dataset_release_order asc, image_id asc
        ) = 1 as is_identity_representative
    from keyed
),

final as (
    select * from ranked
)

select * from final
