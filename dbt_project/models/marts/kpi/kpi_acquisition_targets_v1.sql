with

attribute_values as (
    select * from {{ ref('int_attribute_values_counted') }}
),

phenotypes as (
    select * from {{ ref('int_image_phenotypes_grouped') }}
),

seeded_targets as (
    select * from {{ ref('acquisition_targets') }}
),

diagnosis_groups as (
    -- the grid of kpi_phenotype_gaps' 'diagnosis_group x fitzpatrick_group x
    -- age_bin': every combination of the known values seen in the atlas
    select distinct diagnosis_group from phenotypes
    where diagnosis_group <> 'unknown'
),

fitzpatrick_groups as (
    select distinct fitzpatrick_group from phenotypes
    where fitzpatrick_group <> 'unknown'
),

age_bins as (
    select distinct age_bin from phenotypes
    where age_bin <> 'unknown'
),

known_phenotypes as (
    -- the grid counts the images where all three axes are known
    select * from phenotypes
    where
        diagnosis_group <> 'unknown'
        and fitzpatrick_group <> 'unknown'
        and age_bin <> 'unknown'
),

cell_counts as (
    select
        diagnosis_group,
        fitzpatrick_group,
        age_bin,
        count(*) as n_images
    from known_phenotypes
    group by diagnosis_group, fitzpatrick_group, age_bin
),

cells as (
    select
        'phenotype_cell' as scope,
        'diagnosis_group x fitzpatrick_group x age_bin' as attribute,
        concat_ws(
            ' | ',
            diagnosis_groups.diagnosis_group,
            fitzpatrick_groups.fitzpatrick_group,
            age_bins.age_bin
        ) as value,
        diagnosis_groups.diagnosis_group,
        fitzpatrick_groups.fitzpatrick_group,
        age_bins.age_bin,
        coalesce(cell_counts.n_images, 0) as n_images,
        (select count(*) from known_phenotypes) as n_known
    from diagnosis_groups
    cross join fitzpatrick_groups
    cross join age_bins
    left join cell_counts
        on
            diagnosis_groups.diagnosis_group = cell_counts.diagnosis_group
            and fitzpatrick_groups.fitzpatrick_group = cell_counts.fitzpatrick_group
            and age_bins.age_bin = cell_counts.age_bin
),

known_values as (
    -- every known value of every attribute (declared values without images too)
    select
        'attribute' as scope,
        attribute,
        value,
        null::text as diagnosis_group,
        null::text as fitzpatrick_group,
        null::text as age_bin,
        n_images,
        n_known
    from attribute_values
    where value <> 'unknown'
),

candidates as (
    select * from known_values
    union all
    select * from cells
),

generated_scope as (
    -- what 'uniform' and 'minimum_per_cell' cover: the phenotype cells and
    -- the known values of var acquisition_target_attributes
    select
        candidates.*,
        count(*) over (partition by candidates.scope, candidates.attribute) as n_values
    from candidates
    where
        candidates.scope = 'phenotype_cell'
        or candidates.attribute in (
            {%- for attribute in var('acquisition_target_attributes') %}
                '{{ attribute }}'{{ ',' if not loop.last }}
            {%- endfor %}
        )
),

uniform as (
    select
        'uniform' as target_name,
        generated_scope.*,
        1.0::double precision / generated_scope.n_values as target_share,
        null::bigint as min_images
    from generated_scope
),

minimum_per_cell as (
    select
        'minimum_per_cell' as target_name,
        generated_scope.*,
        null::double precision as target_share,
        {{ var('acquisition_min_images_per_cell') }}::bigint as min_images
    from generated_scope
),

seeded as (
    -- a seed row names one value, or '*' for every value of the attribute
    select
        seeded_targets.target_name,
        candidates.*,
        null::bigint as n_values,
        seeded_targets.target_share::double precision as target_share,
        seeded_targets.min_images::bigint as min_images
    from seeded_targets
    inner join candidates
        on
            seeded_targets.attribute = candidates.attribute
            and (seeded_targets.value = '*' or seeded_targets.value = candidates.value)
),

targets as (
    select * from uniform
    union all
    select * from minimum_per_cell
    union all
    select * from seeded
),

reached as (
    -- n_target: the count of the value that meets the target with the other
    -- values unchanged; a share p is met by m images out of (n_known - n + m)
    -- when m >= p (n_known - n) / (1 - p), rounded to 9 decimals, then up
    select
        *,
        case
            when min_images is not null then min_images
            when target_share <= 0 then 0
            else greatest(1, ceil(round(
                (target_share * (n_known - n_images) / (1 - target_share))::numeric, 9
            )))
        end as n_target
    from targets
),

needed as (
    select
        *,
        greatest(0, n_target - n_images) as n_needed
    from reached
),

final as (
    select
        target_name::text as target_name,
        case when target_share is null then 'minimum' else 'share' end::text as target_kind,
        scope::text as scope,
        attribute::text as attribute,
        value::text as value,
        diagnosis_group::text as diagnosis_group,
        fitzpatrick_group::text as fitzpatrick_group,
        age_bin::text as age_bin,
        n_images::bigint as n_images,
        n_known::bigint as n_known,
        case
            when n_known > 0 then n_images::double precision / n_known
        end as share,
        target_share::double precision as target_share,
        min_images::bigint as min_images,
        n_target::bigint as n_target,
        n_needed::bigint as n_needed,
        dense_rank() over (
            partition by target_name, scope order by n_needed desc
        )::integer as rank_needed,
        n_needed = 0 as is_met,
        n_images = 0 as is_unfilled
    from needed
)

select * from final
