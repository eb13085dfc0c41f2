with

voids as (
    select * from {{ ref('stg_atlas__structural_voids') }}
),

runs as (
    select * from {{ ref('stg_atlas__void_runs') }}
),

models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

boundary as (
    select * from {{ ref('int_void_boundary_images_described') }}
),

null_summary as (
    select
        runs.run_id,
        max(draws.persistence) as null_max_persistence,
        percentile_cont(0.95) within group (
            order by draws.persistence
        ) as null_q95_persistence
    from runs
    cross join lateral unnest(runs.null_max_persistence) as draws (persistence)
    group by runs.run_id
),

value_counts as (
    select
        run_id,
        void_rank,
        'dataset' as attribute,
        dataset_slug as attribute_value,
        count(*) as n_images
    from boundary
    group by run_id, void_rank, dataset_slug
    union all
    select
        run_id,
        void_rank,
        'icd10_block' as attribute,
        icd10_block as attribute_value,
        count(*) as n_images
    from boundary
    group by run_id, void_rank, icd10_block
    union all
    select
        run_id,
        void_rank,
        'fitzpatrick_group' as attribute,
        fitzpatrick_group as attribute_value,
        count(*) as n_images
    from boundary
    group by run_id, void_rank, fitzpatrick_group
),

value_lists as (
    select
        run_id,
        void_rank,
        attribute,
        count(*) as n_values,
        string_agg(
            attribute_value || ' (' || n_images || ')', ', '
            order by n_images desc, attribute_value asc
        ) as value_list
    from value_counts
    group by run_id, void_rank, attribute
),

surroundings as (
    select
        run_id,
        void_rank,
        count(*) as n_boundary_images,
        count(*) filter (
            where fitzpatrick_group <> 'unknown'
        ) as n_fitzpatrick_known,
        count(*) filter (where fitzpatrick_group = 'V-VI') as n_fitzpatrick_v_vi
    from boundary
    group by run_id, void_rank
),

joined as (
    select
        models.model_name,
        voids.*,
        runs.n_images,
        runs.n_landmarks,
        runs.n_landmarks_from_stored_edges,
        runs.n_neighbours,
        runs.metric,
        runs.is_corrected,
        runs.seed,
        runs.n_null_draws,
        runs.alpha,
        runs.computed_at,
        null_summary.null_max_persistence,
        null_summary.null_q95_persistence,
        coalesce(surroundings.n_boundary_images, 0) as n_boundary_images,
        coalesce(surroundings.n_fitzpatrick_known, 0) as n_fitzpatrick_known,
        coalesce(surroundings.n_fitzpatrick_v_vi, 0) as n_fitzpatrick_v_vi,
        coalesce(dataset_values.n_values, 0) as n_datasets,
        dataset_values.value_list as datasets,
        block_values.value_list as icd10_blocks,
        fitzpatrick_values.value_list as fitzpatrick_groups
    from voids
    inner join runs
        on voids.run_id = runs.run_id
    inner join models
        on runs.model_id = models.model_id
    inner join null_summary
        on voids.run_id = null_summary.run_id
    left join surroundings
        on
            voids.run_id = surroundings.run_id
            and voids.void_rank = surroundings.void_rank
    left join value_lists as dataset_values
        on
            voids.run_id = dataset_values.run_id
            and voids.void_rank = dataset_values.void_rank
            and dataset_values.attribute = 'dataset'
    left join value_lists as block_values
        on
            voids.run_id = block_values.run_id
            and voids.void_rank = block_values.void_rank
            and block_values.attribute = 'icd10_block'
    left join value_lists as fitzpatrick_values
        on
            voids.run_id = fitzpatrick_values.run_id
            and voids.void_rank = fitzpatrick_values.void_rank
            and fitzpatrick_values.attribute = 'fitzpatrick_group'
),

final as (
    select
        model_name::text as model_name,
        void_rank::integer as void_rank,
        birth::double precision as birth,
        death::double precision as death,
        persistence::double precision as persistence,
        p_value::double precision as p_value,
        (p_value <= alpha)::boolean as is_significant,
        null_max_persistence::double precision as null_max_persistence,
        null_q95_persistence::double precision as null_q95_persistence,
        (persistence / nullif(null_max_persistence, 0))::double precision
            as persistence_over_null_max,
        n_boundary_images::bigint as n_boundary_images,
        n_datasets::bigint as n_datasets,
        datasets::text as datasets,
        icd10_blocks::text as icd10_blocks,
        fitzpatrick_groups::text as fitzpatrick_groups,
        n_fitzpatrick_known::bigint as n_fitzpatrick_known,
        n_fitzpatrick_v_vi::bigint as n_fitzpatrick_v_vi,
        n_images::integer as n_images,
        n_landmarks::integer as n_landmarks,
        n_landmarks_from_stored_edges::integer as n_landmarks_from_stored_edges,
        n_neighbours::integer as n_neighbours,
        metric::text as metric,
        is_corrected::boolean as is_corrected,
        seed::integer as seed,
        n_null_draws::integer as n_null_draws,
        alpha::double precision as alpha,
        computed_at::timestamptz as computed_at
    from joined
)

select * from final
