{{ config(materialized='view') }}

with

images as (
    select * from {{ ref('stg_atlas__images') }}
),

image_metadata as (
    select * from {{ ref('stg_atlas__image_metadata') }}
),

images_with_metadata as (
    select
        images.image_id,
        images.dataset_id,
        coalesce(image_metadata.fitzpatrick_type::text, 'unknown') as fitzpatrick_type,
        coalesce(image_metadata.fitzpatrick_group, 'unknown') as fitzpatrick_group,
        image_metadata.fitzpatrick_provenance,
        coalesce(image_metadata.age_bin, 'unknown') as age_bin,
        coalesce(image_metadata.is_pediatric::text, 'unknown') as is_pediatric,
        image_metadata.age_provenance,
        coalesce(image_metadata.sex, 'unknown') as sex,
        image_metadata.sex_provenance,
        coalesce(image_metadata.continent, 'unknown') as continent,
        coalesce(image_metadata.country_code, 'unknown') as country,
        image_metadata.country_provenance,
        coalesce(image_metadata.body_region, 'unknown') as body_region,
        image_metadata.body_site_provenance,
        images.modality,
        coalesce(image_metadata.icd10_chapter, 'unknown') as icd10_chapter,
        coalesce(image_metadata.icd10_block, 'unknown') as icd10_block,
        image_metadata.diagnosis_provenance
    from images
    left join image_metadata
        on images.image_id = image_metadata.image_id
),

unpivoted as (
    select
        images_with_metadata.image_id,
        images_with_metadata.dataset_id,
        attributes.attribute,
        attributes.value,
        case
            when attributes.value <> 'unknown' then attributes.provenance
        end as provenance
    from images_with_metadata
    cross join lateral (
        values
        (
            'fitzpatrick_type',
            images_with_metadata.fitzpatrick_type,
            images_with_metadata.fitzpatrick_provenance
        ),
        (
            'fitzpatrick_group',
            images_with_metadata.fitzpatrick_group,
            images_with_metadata.fitzpatrick_provenance
        ),
        ('age_bin', images_with_metadata.age_bin, images_with_metadata.age_provenance),
        ('is_pediatric', images_with_metadata.is_pediatric, images_with_metadata.age_provenance),
        ('sex', images_with_metadata.sex, images_with_metadata.sex_provenance),
        (
            'continent',
            images_with_metadata.continent,
            images_with_metadata.country_provenance
        ),
        (
            'country',
            images_with_metadata.country,
            images_with_metadata.country_provenance
        ),
        (
            'body_region',
            images_with_metadata.body_region,
            images_with_metadata.body_site_provenance
        ),
        ('modality', images_with_metadata.modality, 'label'),
        (
            'icd10_chapter',
            images_with_metadata.icd10_chapter,
            images_with_metadata.diagnosis_provenance
        ),
        (
            'icd10_block',
            images_with_metadata.icd10_block,
            images_with_metadata.diagnosis_provenance
        )
    ) as attributes (attribute, value, provenance)
),

final as (
    select * from unpivoted
)

select * from final
