with

attribute_values as (
    select * from {{ ref('int_attribute_values_counted') }}
),

fitzpatrick_v_vi as (
    select * from attribute_values
    where attribute = 'fitzpatrick_group' and value = 'V-VI'
),

pediatric as (
    select * from attribute_values
    where attribute = 'is_pediatric' and value = 'true'
),

final as (
    select
        fitzpatrick_v_vi.n_total::bigint as n_total,
        fitzpatrick_v_vi.n_images::bigint as n_fitzpatrick_v_vi,
        fitzpatrick_v_vi.n_known::bigint as n_fitzpatrick_known,
        (
            fitzpatrick_v_vi.n_images::double precision
            / nullif(fitzpatrick_v_vi.n_known, 0)
        ) as share_fitzpatrick_v_vi,
        {{ wilson_low('fitzpatrick_v_vi.n_images', 'fitzpatrick_v_vi.n_known') }}
            as share_fitzpatrick_v_vi_wilson_low,
        {{ wilson_high('fitzpatrick_v_vi.n_images', 'fitzpatrick_v_vi.n_known') }}
            as share_fitzpatrick_v_vi_wilson_high,
        (
            fitzpatrick_v_vi.n_known::double precision
            / nullif(fitzpatrick_v_vi.n_total, 0)
        ) as share_fitzpatrick_known,
        pediatric.n_images::bigint as n_pediatric,
        pediatric.n_known::bigint as n_age_known,
        pediatric.n_images::double precision / nullif(pediatric.n_known, 0) as share_pediatric,
        {{ wilson_low('pediatric.n_images', 'pediatric.n_known') }} as share_pediatric_wilson_low,
        {{ wilson_high('pediatric.n_images', 'pediatric.n_known') }} as share_pediatric_wilson_high,
        pediatric.n_known::double precision / nullif(pediatric.n_total, 0) as share_age_known
    from fitzpatrick_v_vi
    cross join pediatric
)

select * from final
