{#- Where the uncovered images are, by their metadata: per model, attribute
    (dataset, diagnosis group, Fitzpatrick group, age bin) and value, the
    images measured, the uncovered ones, their share of the value's images
    and of all the model's uncovered images. -#}

with

flagged as (
    select * from {{ ref('int_images_coverage_flagged') }}
),

by_value as (
    select
        flagged.model_name,
        attributes.attribute,
        attributes.value,
        flagged.is_uncovered
    from flagged
    cross join lateral (
        values
        ('dataset', flagged.dataset_slug),
        ('diagnosis_group', flagged.diagnosis_group),
        ('fitzpatrick_group', flagged.fitzpatrick_group),
        ('age_bin', flagged.age_bin)
    ) as attributes (attribute, value)
),

counted as (
    select
        model_name,
        attribute,
        value,
        count(*) as n_images,
        count(*) filter (where is_uncovered) as n_uncovered
    from by_value
    group by model_name, attribute, value
),

totals as (
    select
        model_name,
        count(*) filter (where is_uncovered) as n_uncovered_total
    from flagged
    group by model_name
),

final as (
    select
        counted.model_name::text as model_name,
        counted.attribute::text as attribute,
        counted.value::text as value,
        counted.n_images::bigint as n_images,
        counted.n_uncovered::bigint as n_uncovered,
        (
            counted.n_uncovered::double precision / counted.n_images
        )::double precision as share_uncovered,
        (
            counted.n_uncovered::double precision / nullif(totals.n_uncovered_total, 0)
        )::double precision as share_of_uncovered
    from counted
    inner join totals
        on counted.model_name = totals.model_name
)

select * from final
