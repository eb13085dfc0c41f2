with

attribute_values as (
    select * from {{ ref('int_attribute_values_counted_by_dataset') }}
),

shares as (
    select
        dataset_slug,
        attribute,
        value,
        value_order,
        n_images,
        n_known,
        n_total,
        value <> 'unknown' and n_known > 0 as has_share
    from attribute_values
),

final as (
    select
        dataset_slug::text as dataset_slug,
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
