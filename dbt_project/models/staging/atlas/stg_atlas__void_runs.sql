with

source as (
    select * from {{ source('atlas', 'void_run') }}
),

final as (
    select
        run_id,
        model_id,
        n_images,
        n_landmarks,
        n_landmarks_from_stored_edges,
        k as n_neighbours,
        metric,
        is_corrected,
        seed,
        n_null_draws,
        null_max_persistence,
        alpha,
        max_voids,
        seconds as run_seconds,
        computed_at
    from source
)

select * from final
