with

source as (
    select * from {{ source('atlas', 'void_boundary_image') }}
),

final as (
    select
        run_id,
        void_rank,
        position as boundary_position,
        image_id
    from source
)

select * from final
