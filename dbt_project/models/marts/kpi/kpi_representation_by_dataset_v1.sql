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
        case
            when has_share then n_images::double precision / n_known
        end as share,
        case
            when has_share then {{ wilson_low('n_images', 'n_known') }}
        end as wilson_low,
        case
            when has_share then {{ wilson_high('n_images', 'n_known') }}
        end as wilson_high,
        case
            when n_total > 0 then n_known::double precision / n_total
        end as share_known
    from shares
)

select * from final
