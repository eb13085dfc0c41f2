with

source as (
    select * from {{ source('atlas', 'dataset') }}
),

final as (
    select
        dataset_id,
        slug as dataset_slug,
        name as dataset_name,
        release_year::integer as dataset_release_year,
        modality as dataset_modality,
        licence,
        source_url,
        origin_country
    from source
)

select * from final
