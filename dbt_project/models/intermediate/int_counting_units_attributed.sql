{{ config(post_hook='analyze {{ this }}') }}

{#- The attribute values of each counting unit (int_images_grouped_into_
    counting_units), for both readings of int_image_attributes_by_values_from,
    over the whole atlas (grain 'atlas', dataset_id NULL) and inside each
    dataset (grain 'dataset': a unit's images in that dataset only). A unit's
    value is its most frequent known value among its images, ties broken by
    the earliest released image; for age (age_bin, is_pediatric) it is the
    youngest known value, the age at the unit's first image, since ages only
    grow (value_order of the seed lists the bins young to old). A unit with
    no known value is 'unknown'. provenance: 'label' when an image of the
    unit carries the value as a label, else 'imputed'. -#}

with

units as (
    select * from {{ ref('int_images_grouped_into_counting_units') }}
),

image_attributes as (
    select * from {{ ref('int_image_attributes_by_values_from') }}
),

attribute_values as (
    select * from {{ ref('attribute_values') }}
),

value_tallies as (
    select
        image_attributes.values_from,
        units.counted_over,
        units.dataset_id,
        units.unit_key,
        image_attributes.attribute,
        image_attributes.value,
        grouping(units.dataset_id) = 1 as is_atlas_grain,
        count(*) as n_images,
        min(units.member_order) as first_member_order,
        bool_or(image_attributes.provenance = 'label') as has_label
    from units
    inner join image_attributes
        on units.image_id = image_attributes.image_id
    group by grouping sets (
        (
            image_attributes.values_from,
            units.counted_over,
            units.unit_key,
            image_attributes.attribute,
            image_attributes.value
        ),
        (
            image_attributes.values_from,
            units.counted_over,
            units.dataset_id,
            units.unit_key,
            image_attributes.attribute,
            image_attributes.value
        )
    )
),

ranked as (
    select
        value_tallies.*,
        sum(value_tallies.n_images) over (
            partition by
                value_tallies.values_from,
                value_tallies.counted_over,
                value_tallies.is_atlas_grain,
                value_tallies.dataset_id,
                value_tallies.unit_key,
                value_tallies.attribute
        ) as n_unit_images,
        row_number() over (
            partition by
                value_tallies.values_from,
                value_tallies.counted_over,
                value_tallies.is_atlas_grain,
                value_tallies.dataset_id,
                value_tallies.unit_key,
                value_tallies.attribute
            order by
                value_tallies.value = 'unknown' asc,
                case
                    when value_tallies.attribute in ('age_bin', 'is_pediatric')
                        then coalesce(attribute_values.value_order, 98)
                end asc,
                value_tallies.n_images desc,
                value_tallies.first_member_order asc
        ) as value_rank
    from value_tallies
    left join attribute_values
        on
            value_tallies.attribute = attribute_values.attribute
            and value_tallies.value = attribute_values.value
),

final as (
    select
        values_from,
        counted_over,
        case when is_atlas_grain then 'atlas' else 'dataset' end as grain,
        dataset_id,
        unit_key,
        attribute,
        value,
        case
            when value = 'unknown' then null
            when has_label then 'label'
            else 'imputed'
        end as provenance,
        n_unit_images
    from ranked
    where value_rank = 1
)

select * from final
