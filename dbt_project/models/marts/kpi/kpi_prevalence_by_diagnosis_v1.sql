with

phenotypes as (
    select * from {{ ref('int_image_phenotypes_grouped') }}
),

image_attributes as (
    select * from {{ ref('int_image_attributes_unpivoted') }}
),

attribute_values as (
    select * from {{ ref('int_attribute_values_counted') }}
),

demographics as (
    -- the demographic attributes crossed with the diagnosis groups
    select * from (
        values
        ('fitzpatrick_group'),
        ('age_bin'),
        ('sex'),
        ('continent'),
        ('body_region')
    ) as demographic (attribute)
),

diagnosed as (
    -- images with a known diagnosis group (the ICD-10 block, as in the
    -- phenotype gaps) and their demographic values
    select
        phenotypes.diagnosis_group,
        image_attributes.attribute,
        image_attributes.value
    from phenotypes
    inner join image_attributes
        on phenotypes.image_id = image_attributes.image_id
    inner join demographics
        on image_attributes.attribute = demographics.attribute
    where phenotypes.diagnosis_group <> 'unknown'
),

value_counts as (
    select
        diagnosis_group,
        attribute,
        value,
        count(*) as n_images
    from diagnosed
    group by diagnosis_group, attribute, value
),

group_counts as (
    select
        diagnosis_group,
        attribute,
        count(*) filter (where value <> 'unknown') as n_known,
        count(*) as n_total
    from diagnosed
    group by diagnosis_group, attribute
),

domain as (
    -- every value of the attribute for every diagnosis group, 0 included
    select
        group_counts.diagnosis_group,
        group_counts.attribute,
        attribute_values.value,
        attribute_values.value_order
    from group_counts
    inner join attribute_values
        on group_counts.attribute = attribute_values.attribute
),

shares as (
    select
        domain.diagnosis_group,
        domain.attribute,
        domain.value,
        domain.value_order,
        coalesce(value_counts.n_images, 0) as n_images,
        group_counts.n_known,
        group_counts.n_total,
        domain.value <> 'unknown' and group_counts.n_known > 0 as has_share
    from domain
    inner join group_counts
        on
            domain.diagnosis_group = group_counts.diagnosis_group
            and domain.attribute = group_counts.attribute
    left join value_counts
        on
            domain.diagnosis_group = value_counts.diagnosis_group
            and domain.attribute = value_counts.attribute
            and domain.value = value_counts.value
),

final as (
    select
        diagnosis_group::text as diagnosis_group,
        attribute::text as attribute,
        value::text as value,
        value_order::integer as value_order,
        n_images::bigint as n_images,
        n_known::bigint as n_known,
        n_total::bigint as n_total,
        {{ known_share_columns() }}
    from shares
)

select * from final
