{{ config(materialized='view') }}

{#- The image attributes of int_image_attributes_unpivoted read two ways
    (values_from): 'labelled', the values taken from a source label only
    (an imputed value reads as unknown), and 'labelled_and_imputed', labels
    plus the values that `skinmap impute` wrote into the empty fields with
    provenance 'imputed'. A known value with neither provenance reads as
    unknown in both. -#}

with

image_attributes as (
    select * from {{ ref('int_image_attributes_unpivoted') }}
),

readings as (
    select readings.values_from
    from (values ('labelled'), ('labelled_and_imputed')) as readings (values_from)
),

read_values as (
    select
        readings.values_from,
        image_attributes.image_id,
        image_attributes.dataset_id,
        image_attributes.attribute,
        case
            when image_attributes.provenance = 'label' then image_attributes.value
            when
                readings.values_from = 'labelled_and_imputed'
                and image_attributes.provenance = 'imputed'
                then image_attributes.value
            else 'unknown'
        end as value,
        case
            when image_attributes.provenance = 'label' then 'label'
            when
                readings.values_from = 'labelled_and_imputed'
                and image_attributes.provenance = 'imputed'
                then 'imputed'
        end as provenance
    from image_attributes
    cross join readings
),

final as (
    select * from read_values
)

select * from final
