{#- kNN density beside kpi_phenotype_gaps_v1: its cells (same grids, empty
    ones included) for every model with measured neighbourhoods, with the
    mean kNN distance of the cell's images and their uncovered share. -#}

with

gaps as (
    select * from {{ ref('kpi_phenotype_gaps', v=1) }}
),

flagged as (
    select * from {{ ref('int_images_coverage_flagged') }}
),

combinations as (
    -- the grids of kpi_phenotype_gaps_v1: which axes each one crosses
    select distinct
        combination,
        diagnosis_group is not null as has_diagnosis_group,
        fitzpatrick_group is not null as has_fitzpatrick_group,
        age_bin is not null as has_age_bin
    from gaps
),

models as (
    select
        model_id,
        model_name,
        avg(mean_neighbour_distance) as model_mean_distance
    from flagged
    group by model_id, model_name
),

image_cells as (
    select
        combinations.combination,
        flagged.model_id,
        flagged.mean_neighbour_distance,
        flagged.is_uncovered,
        case
            when combinations.has_diagnosis_group then flagged.diagnosis_group
        end as diagnosis_group,
        case
            when combinations.has_fitzpatrick_group then flagged.fitzpatrick_group
        end as fitzpatrick_group,
        case
            when combinations.has_age_bin then flagged.age_bin
        end as age_bin
    from combinations
    cross join flagged
    where
        (not combinations.has_diagnosis_group or flagged.diagnosis_group <> 'unknown')
        and (not combinations.has_fitzpatrick_group or flagged.fitzpatrick_group <> 'unknown')
        and (not combinations.has_age_bin or flagged.age_bin <> 'unknown')
),

measured as (
    select
        combination,
        model_id,
        diagnosis_group,
        fitzpatrick_group,
        age_bin,
        count(*) as n_images_measured,
        count(*) filter (where is_uncovered) as n_uncovered,
        avg(mean_neighbour_distance) as mean_knn_distance
    from image_cells
    group by combination, model_id, diagnosis_group, fitzpatrick_group, age_bin
),

cells as (
    select
        models.model_id,
        models.model_name,
        models.model_mean_distance,
        gaps.combination,
        gaps.diagnosis_group,
        gaps.fitzpatrick_group,
        gaps.age_bin,
        gaps.n_images
    from gaps
    cross join models
),

final as (
    select
        cells.model_name::text as model_name,
        cells.combination::text as combination,
        cells.diagnosis_group::text as diagnosis_group,
        cells.fitzpatrick_group::text as fitzpatrick_group,
        cells.age_bin::text as age_bin,
        cells.n_images::bigint as n_images,
        coalesce(measured.n_images_measured, 0)::bigint as n_images_measured,
        coalesce(measured.n_uncovered, 0)::bigint as n_uncovered,
        (
            measured.n_uncovered::double precision / measured.n_images_measured
        )::double precision as share_uncovered,
        measured.mean_knn_distance::double precision as mean_knn_distance,
        (
            cells.model_mean_distance / nullif(measured.mean_knn_distance, 0)
        )::double precision as relative_density
    from cells
    left join measured
        on
            cells.model_id = measured.model_id
            and cells.combination = measured.combination
            and cells.diagnosis_group is not distinct from measured.diagnosis_group
            and cells.fitzpatrick_group is not distinct from measured.fitzpatrick_group
            and cells.age_bin is not distinct from measured.age_bin
)

select * from final
