with

source as (
    select * from {{ source('atlas', 'duplicate_verification') }}
),

final as (
    select
        image_id_a,
        image_id_b,
        method as verification_method,
        n_inliers,
        unreadable_reason,
        verified_at
    from source
)

select * from final
