{{ config(post_hook='analyze {{ this }}') }}

{#- The units a representation share can count (counted_over), one row per
    image and unit: 'images' (every row), 'unique_images' (one unit per
    identity cluster of int_identity_clusters_labelled, evidence 'any': the
    same shared source id or the same decoded pixels, and the verified near
    duplicates of the embedding model named by the dbt var
    representation_near_duplicate_model, none by default since near-duplicate
    clusters are per model), 'lesions' and 'patients' (one unit per
    lesion_key / patient_key of int_images_keyed_by_identity; images without
    that id are left out). member_order ranks the images by release (year,
    dataset release order, image id), the representative rule of the
    identity models. -#}

{%- set near_duplicate_model = var('representation_near_duplicate_model') %}

with

images as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

identity_clusters as (
    select * from {{ ref('int_identity_clusters_labelled') }}
    where
        evidence = 'any'
        {%- if near_duplicate_model %}
            and model_name = '{{ near_duplicate_model }}'
        {%- else %}
            and model_id is null
        {%- endif %}
),

ordered_images as (
    select
        images.image_id,
        images.dataset_id,
        images.lesion_key,
        images.patient_key,
        identity_clusters.cluster_id,
        row_number() over (
            order by
                images.release_year asc nulls last,
                images.dataset_release_order asc,
                images.image_id asc
        ) as member_order
    from images
    left join identity_clusters
        on images.image_id = identity_clusters.image_id
),

units as (
    select
        'images' as counted_over,
        image_id,
        dataset_id,
        'image:' || image_id::text as unit_key,
        member_order
    from ordered_images
    union all
    select
        'unique_images' as counted_over,
        image_id,
        dataset_id,
        'image:' || coalesce(cluster_id, image_id)::text as unit_key,
        member_order
    from ordered_images
    union all
    select
        'lesions' as counted_over,
        image_id,
        dataset_id,
        lesion_key as unit_key,
        member_order
    from ordered_images
    where lesion_key is not null
    union all
    select
        'patients' as counted_over,
        image_id,
        dataset_id,
        patient_key as unit_key,
        member_order
    from ordered_images
    where patient_key is not null
),

final as (
    select * from units
)

select * from final
