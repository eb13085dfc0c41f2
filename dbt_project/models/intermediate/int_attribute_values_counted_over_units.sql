{{ config(post_hook='analyze {{ this }}') }}

{#- Counts per (values_from, counted_over, attribute, value) of the counting
    units of int_counting_units_attributed, over the whole atlas (grain
    'atlas') and per dataset (grain 'dataset'), on the value domain of
    int_attribute_values_counted (declared values and any seen), so that
    every variant has the same rows as kpi_representation_v1. n_images_counted
    says how many image rows the variant's units hold, n_images_all how many
    the grain has. -#}

with

attribute_values as (
    select * from {{ ref('int_attribute_values_counted') }}
),

unit_attributes as (
    select * from {{ ref('int_counting_units_attributed') }}
),

units as (
    select * from {{ ref('int_images_grouped_into_counting_units') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

variants as (
    select
        readings.values_from,
        kinds.counted_over
    from (values ('labelled'), ('labelled_and_imputed')) as readings (values_from)
    cross join (
        values ('images'), ('unique_images'), ('lesions'), ('patients')
    ) as kinds (counted_over)
),

scopes as (
    select
        'atlas' as grain,
        null::integer as dataset_id,
        null::text as dataset_slug
    union all
    select
        'dataset' as grain,
        dataset_id,
        dataset_slug
    from datasets
),

value_counts as (
    select
        values_from,
        counted_over,
        grain,
        dataset_id,
        attribute,
        value,
        count(*) as n_units,
        count(*) filter (where provenance = 'label') as n_labelled,
        count(*) filter (where provenance = 'imputed') as n_imputed
    from unit_attributes
    group by values_from, counted_over, grain, dataset_id, attribute, value
),

attribute_counts as (
    select
        values_from,
        counted_over,
        grain,
        dataset_id,
        attribute,
        count(*) filter (where value <> 'unknown') as n_known,
        count(*) as n_total
    from unit_attributes
    group by values_from, counted_over, grain, dataset_id, attribute
),

image_counts as (
    select
        counted_over,
        dataset_id,
        grouping(dataset_id) = 1 as is_atlas_grain,
        count(distinct image_id) as n_images_counted
    from units
    group by grouping sets ((counted_over), (counted_over, dataset_id))
),

all_image_counts as (
    select
        dataset_id,
        is_atlas_grain,
        n_images_counted as n_images_all
    from image_counts
    where counted_over = 'images'
),

domain as (
    select
        variants.values_from,
        variants.counted_over,
        scopes.grain,
        scopes.dataset_id,
        scopes.dataset_slug,
        attribute_values.attribute,
        attribute_values.value,
        attribute_values.value_order
    from variants
    cross join scopes
    cross join attribute_values
),

final as (
    select
        domain.values_from,
        domain.counted_over,
        domain.grain,
        domain.dataset_id,
        domain.dataset_slug,
        domain.attribute,
        domain.value,
        domain.value_order,
        coalesce(value_counts.n_units, 0) as n_units,
        coalesce(attribute_counts.n_known, 0) as n_known,
        coalesce(attribute_counts.n_total, 0) as n_total,
        coalesce(value_counts.n_labelled, 0) as n_labelled,
        coalesce(value_counts.n_imputed, 0) as n_imputed,
        coalesce(image_counts.n_images_counted, 0) as n_images_counted,
        coalesce(all_image_counts.n_images_all, 0) as n_images_all
    from domain
    left join value_counts
        on
            domain.values_from = value_counts.values_from
            and domain.counted_over = value_counts.counted_over
            and domain.grain = value_counts.grain
            and coalesce(domain.dataset_id, 0) = coalesce(value_counts.dataset_id, 0)
            and domain.attribute = value_counts.attribute
            and domain.value = value_counts.value
    left join attribute_counts
        on
            domain.values_from = attribute_counts.values_from
            and domain.counted_over = attribute_counts.counted_over
            and domain.grain = attribute_counts.grain
            and coalesce(domain.dataset_id, 0) = coalesce(attribute_counts.dataset_id, 0)
            and domain.attribute = attribute_counts.attribute
    left join image_counts
        on
            domain.counted_over = image_counts.counted_over
            and (domain.grain = 'atlas') = image_counts.is_atlas_grain
            and coalesce(domain.dataset_id, 0) = coalesce(image_counts.dataset_id, 0)
    left join all_image_counts
        on
            (domain.grain = 'atlas') = all_image_counts.is_atlas_grain
            and coalesce(domain.dataset_id, 0) = coalesce(all_image_counts.dataset_id, 0)
)

select * from final
