with

attribute_values as (
    select * from {{ ref('int_attribute_values_counted') }}
),

shares as (
    select
        attribute,
        value,
        value_order,
        n_images,
        n_known,
        n_total,
        value <> 'unknown' and n_known > 0 as has_share,
        n_labelled,
        n_imputed
    from attribute_values
),

final as (
    select
        attribute::text as attribute,
        value::text as value,
        value_order::integer as value_order,
        n_images::bigint as n_images,
        n_known::bigint as n_known,
        n_total::bigint as n_total,
        {{ known_share_columns() }},
        n_labelled::bigint as n_labelled,
        n_imputed::bigint as n_imputed
    from shares
)

select * from final
