with

images as (
    select * from {{ ref('stg_atlas__images') }}
),

image_metadata as (
    select * from {{ ref('stg_atlas__image_metadata') }}
),

coded_images as (
    select
        image_metadata.icd10_code,
        image_metadata.icd10_category,
        image_metadata.icd10_block,
        image_metadata.icd10_chapter,
        images.dataset_id,
        images.release_year
    from images
    inner join image_metadata
        on images.image_id = image_metadata.image_id
    where image_metadata.icd10_code is not null
),

atlas_newest as (
    -- the newest release in the atlas, over all usable images
    select max(release_year) as atlas_last_release_year
    from images
),

codes as (
    select
        icd10_code,
        max(icd10_category) as icd10_category,
        max(icd10_block) as icd10_block,
        max(icd10_chapter) as icd10_chapter,
        count(*) as n_images,
        count(distinct dataset_id) as n_datasets,
        min(release_year) as first_release_year,
        max(release_year) as last_release_year
    from coded_images
    group by icd10_code
),

final as (
    select
        codes.icd10_code::text as icd10_code,
        codes.icd10_category::text as icd10_category,
        codes.icd10_block::text as icd10_block,
        codes.icd10_chapter::text as icd10_chapter,
        codes.n_images::bigint as n_images,
        codes.n_datasets::bigint as n_datasets,
        codes.first_release_year::integer as first_release_year,
        codes.last_release_year::integer as last_release_year,
        atlas_newest.atlas_last_release_year::integer as atlas_last_release_year,
        codes.n_images < {{ var('rare_diagnosis_max_images') }} as is_rare,
        (
            atlas_newest.atlas_last_release_year - codes.last_release_year > 3
        ) as is_orphan
    from codes
    cross join atlas_newest
)

select * from final
