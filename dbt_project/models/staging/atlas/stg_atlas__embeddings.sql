with

source as (
    select * from {{ source('atlas', 'embedding') }}
),

final as (
    select
        model_id,
        image_id,
        vec,
        embedded_at
    from source
)

select * from final
