with

source as (
    select * from {{ source('atlas', 'image_quality') }}
),

final as (
    select
        image_id,
        brightness_p99::double precision as brightness_p99,
        brightness_p05::double precision as brightness_p05,
        entropy::double precision as entropy,
        cv_blurriness::double precision as cv_blurriness,
        sharpness::double precision as sharpness,
        thumb_std::double precision as thumb_std,
        column_std::double precision as column_std,
        row_std::double precision as row_std,
        chroma::double precision as chroma,
        measured_at
    from source
)

select * from final
