with

source as (
    select * from {{ source('atlas', 'embedding') }}
),

final as (
    select
        model_id,
        image_id,
        -- halfvec models store vec_half instead (exactly one is set)
        coalesce(vec, vec_half::vector) as vec,
        vec_half is not null as is_half_precision,
        embedded_at
    from source
)

select * from final
