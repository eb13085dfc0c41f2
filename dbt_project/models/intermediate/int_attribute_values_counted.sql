{{ config(materialized='view') }}

with

attribute_values as (
    select * from {{ ref('attribute_values') }}
),

image_attributes as (
    select * from {{ ref('int_image_attributes_unpivoted') }}
),

value_counts as (
    select
        attribute,
        value,
        count(*) as n_images,
        count(*) filter (where provenance = 'label') as n_labelled,
        count(*) filter (where provenance = 'imputed') as n_imputed
    from image_attributes
    group by attribute, value
),

attribute_counts as (
    select
        attribute,
        count(*) filter (where value <> 'unknown') as n_known,
        count(*) as n_total
    from image_attributes
    group by attribute
),

n_images_total as (
    select count(distinct image_id) as n_total
    from image_attributes
),

domain as (
    -- the declared values, plus any value the data has that the seed lacks
    select
        attribute,
        value,
        value_order
    from attribute_values
    union
    select
        value_counts.attribute,
        value_counts.value,
        98 as value_order
    from value_counts
    where not exists (
        select 1
        from attribute_values
        where
            attribute_values.attribute = value_counts.attribute
            and attribute_values.value = value_counts.value
    )
),

final as (
    select
        domain.attribute,
        domain.value,
        domain.value_order,
        coalesce(value_counts.n_images, 0) as n_images,
        coalesce(attribute_counts.n_known, 0) as n_known,
        n_images_total.n_total,
        coalesce(value_counts.n_labelled, 0) as n_labelled,
        coalesce(value_counts.n_imputed, 0) as n_imputed
    from domain
    cross join n_images_total
    left join value_counts
        on
            domain.attribute = value_counts.attribute
            and domain.value = value_counts.value
    left join attribute_counts
        on domain.attribute = attribute_counts.attribute
)

select * from final
