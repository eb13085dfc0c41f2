with

source as (
    select * from {{ source('atlas', 'structural_void') }}
),

final as (
    select
        run_id,
        void_rank,
        birth,
        death,
        persistence,
        p_value,
        n_cocycle_edges,
        n_boundary_landmarks
    from source
)

select * from final
