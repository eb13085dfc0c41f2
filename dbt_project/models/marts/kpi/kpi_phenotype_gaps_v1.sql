with

phenotypes as (
    select * from {{ ref('int_image_phenotypes_grouped') }}
),

combinations as (
    -- the grids: which axes each one crosses
    select * from (
        values
        ('diagnosis_group x fitzpatrick_group x age_bin', true, true, true),
        ('fitzpatrick_group x age_bin', false, true, true),
        ('diagnosis_group x fitzpatrick_group', true, true, false)
    ) as grids (combination, has_diagnosis_group, has_fitzpatrick_group, has_age_bin)
),

image_cells as (
    -- each image in each grid where all of the grid's axes are known; an
    -- axis outside the grid is NULL
    select
        combinations.combination,
        phenotypes.image_id,
        case
            when combinations.has_diagnosis_group then phenotypes.diagnosis_group
        end as diagnosis_group,
        case
            when combinations.has_fitzpatrick_group then phenotypes.fitzpatrick_group
        end as fitzpatrick_group,
        case
            when combinations.has_age_bin then phenotypes.age_bin
        end as age_bin
    from combinations
    cross join phenotypes
    where
        (not combinations.has_diagnosis_group or phenotypes.diagnosis_group <> 'unknown')
        and (not combinations.has_fitzpatrick_group or phenotypes.fitzpatrick_group <> 'unknown')
        and (not combinations.has_age_bin or phenotypes.age_bin <> 'unknown')
),

diagnosis_groups as (
    -- the known values seen in the atlas, plus NULL for grids without the axis
    select distinct diagnosis_group from phenotypes
    where diagnosis_group <> 'unknown'
    union all
    select null as diagnosis_group
),

fitzpatrick_groups as (
    select distinct fitzpatrick_group from phenotypes
    where fitzpatrick_group <> 'unknown'
    union all
    select null as fitzpatrick_group
),

age_bins as (
    select distinct age_bin from phenotypes
    where age_bin <> 'unknown'
    union all
    select null as age_bin
),

grid as (
    -- every combination of the known values, empty cells included
    select
        combinations.combination,
        diagnosis_groups.diagnosis_group,
        fitzpatrick_groups.fitzpatrick_group,
        age_bins.age_bin
    from combinations
    cross join diagnosis_groups
    cross join fitzpatrick_groups
    cross join age_bins
    where
        (diagnosis_groups.diagnosis_group is not null) = combinations.has_diagnosis_group
        and (fitzpatrick_groups.fitzpatrick_group is not null) = combinations.has_fitzpatrick_group
        and (age_bins.age_bin is not null) = combinations.has_age_bin
),

observed as (
    select
        combination,
        diagnosis_group,
        fitzpatrick_group,
        age_bin,
        count(*) as n_images
    from image_cells
    group by combination, diagnosis_group, fitzpatrick_group, age_bin
),

grid_totals as (
    select
        combination,
        count(*) as n_total_known
    from image_cells
    group by combination
),

diagnosis_margins as (
    select
        combination,
        diagnosis_group,
        count(*) as n_images
    from image_cells
    group by combination, diagnosis_group
),

fitzpatrick_margins as (
    select
        combination,
        fitzpatrick_group,
        count(*) as n_images
    from image_cells
    group by combination, fitzpatrick_group
),

age_margins as (
    select
        combination,
        age_bin,
        count(*) as n_images
    from image_cells
    group by combination, age_bin
),

cells as (
    select
        grid.combination,
        grid.diagnosis_group,
        grid.fitzpatrick_group,
        grid.age_bin,
        coalesce(observed.n_images, 0) as n_images,
        coalesce(grid_totals.n_total_known, 0) as n_total_known,
        -- n * p(dx) * p(fitz) * p(age); an axis outside the grid has
        -- margin n, factor 1
        case
            when grid_totals.n_total_known > 0
                then
                    grid_totals.n_total_known::double precision
                    * coalesce(diagnosis_margins.n_images, 0) / grid_totals.n_total_known
                    * coalesce(fitzpatrick_margins.n_images, 0) / grid_totals.n_total_known
                    * coalesce(age_margins.n_images, 0) / grid_totals.n_total_known
            else 0
        end as n_expected
    from grid
    left join observed
        on
            grid.combination = observed.combination
            and grid.diagnosis_group is not distinct from observed.diagnosis_group
            and grid.fitzpatrick_group is not distinct from observed.fitzpatrick_group
            and grid.age_bin is not distinct from observed.age_bin
    left join grid_totals
        on grid.combination = grid_totals.combination
    left join diagnosis_margins
        on
            grid.combination = diagnosis_margins.combination
            and grid.diagnosis_group is not distinct from diagnosis_margins.diagnosis_group
    left join fitzpatrick_margins
        on
            grid.combination = fitzpatrick_margins.combination
            and grid.fitzpatrick_group is not distinct from fitzpatrick_margins.fitzpatrick_group
    left join age_margins
        on
            grid.combination = age_margins.combination
            and grid.age_bin is not distinct from age_margins.age_bin
),

final as (
    select
        combination::text as combination,
        diagnosis_group::text as diagnosis_group,
        fitzpatrick_group::text as fitzpatrick_group,
        age_bin::text as age_bin,
        n_images::bigint as n_images,
        n_expected::double precision as n_expected,
        n_total_known::bigint as n_total_known,
        n_images = 0 as is_empty,
        n_images < {{ var('phenotype_sparse_threshold') }} as is_sparse
    from cells
)

select * from final
