with

source as (
    select * from {{ source('atlas', 'pixel_signature') }}
),

final as (
    select
        image_id,
        signature,
        signature_mirrored
    from source
)

select * from final
