with

attribute_values as (
    select * from {{ ref('int_attribute_values_counted_over_units') }}
    where grain = 'dataset'
),

shares as (
    select
        values_from,
        counted_over,
        dataset_slug,
        attribute,
        value,
        value_order,
        n_units,
        n_known,
        n_total,
        value <> 'unknown' and n_known > 0 as has_share,
        n_labelled,
        n_imputed
    from attribute_values
),

final as (
    select
        values_from::text as values_from,
        counted_over::text as counted_over,
        dataset_slug::text as dataset_slug,
        attribute::text as attribute,
        value::text as value,
        value_order::integer as value_order,
        n_units::bigint as n_images,
        n_known::bigint as n_known,
        n_total::bigint as n_total,
        {{ known_share_columns(n_images='n_units') }},
        n_labelled::bigint as n_labelled,
        n_imputed::bigint as n_imputed
    from shares
)

select * from final
