{{ config(materialized='view') }}

with

attribute_values as (
    select * from {{ ref('int_attribute_values_counted') }}
),

image_attributes as (
    select * from {{ ref('int_image_attributes_unpivoted') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

value_counts as (
    select
        dataset_id,
        attribute,
        value,
        count(*) as n_images,
        count(*) filter (where provenance = 'label') as n_labelled,
        count(*) filter (where provenance = 'imputed') as n_imputed
    from image_attributes
    group by dataset_id, attribute, value
),

attribute_counts as (
    select
        dataset_id,
        attribute,
        count(*) filter (where value <> 'unknown') as n_known,
        count(*) as n_total
    from image_attributes
    group by dataset_id, attribute
),

domain as (
    -- the atlas-wide values (declared or seen) in every dataset, so that
    -- each dataset has the same rows as kpi_representation
    select
        datasets.dataset_id,
        datasets.dataset_slug,
        attribute_values.attribute,
        attribute_values.value,
        attribute_values.value_order
    from datasets
    cross join attribute_values
),

final as (
    select
        domain.dataset_id,
        domain.dataset_slug,
        domain.attribute,
        domain.value,
        domain.value_order,
        coalesce(value_counts.n_images, 0) as n_images,
        coalesce(attribute_counts.n_known, 0) as n_known,
        coalesce(attribute_counts.n_total, 0) as n_total,
        coalesce(value_counts.n_labelled, 0) as n_labelled,
        coalesce(value_counts.n_imputed, 0) as n_imputed
    from domain
    left join value_counts
        on
            domain.dataset_id = value_counts.dataset_id
            and domain.attribute = value_counts.attribute
            and domain.value = value_counts.value
    left join attribute_counts
        on
            domain.dataset_id = attribute_counts.dataset_id
            and domain.attribute = attribute_counts.attribute
)

select * from final
