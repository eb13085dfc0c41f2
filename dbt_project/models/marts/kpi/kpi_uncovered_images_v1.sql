{#- Every usable image with measured neighbours, per model: its radius,
    the model's adaptive radius and whether it is uncovered. -#}

with

flagged as (
    select * from {{ ref('int_images_coverage_flagged') }}
),

final as (
    select
        model_name::text as model_name,
        image_id::bigint as image_id,
        dataset_slug::text as dataset_slug,
        diagnosis_group::text as diagnosis_group,
        fitzpatrick_group::text as fitzpatrick_group,
        age_bin::text as age_bin,
        kth_neighbour_distance::double precision as kth_neighbour_distance,
        mean_neighbour_distance::double precision as mean_neighbour_distance,
        uncovered_radius::double precision as uncovered_radius,
        is_uncovered::boolean as is_uncovered
    from flagged
)

select * from final
