with

source as (
    select * from {{ source('atlas', 'image_metadata') }}
),

final as (
    select
        image_id,
        fitzpatrick_type::integer as fitzpatrick_type,
        coalesce(fitzpatrick_group, 'unknown') as fitzpatrick_group,
        fitzpatrick_provenance,
        age_years::double precision as age_years,
        coalesce(age_bin, 'unknown') as age_bin,
        case
            when age_bin is null then null
            else age_bin = '0-17'
        end as is_pediatric,
        age_provenance,
        coalesce(sex, 'unknown') as sex,
        sex_provenance,
        country_code,
        coalesce(continent, 'unknown') as continent,
        country_provenance,
        coalesce(body_region, 'unknown') as body_region,
        laterality,
        body_site_provenance,
        diagnosis,
        icd10_code,
        icd10_category,
        icd10_block,
        icd10_chapter,
        is_malignant,
        diagnosis_provenance
    from source
)

select * from final
