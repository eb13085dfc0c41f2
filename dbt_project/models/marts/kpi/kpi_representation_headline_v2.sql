with

attribute_values as (
    select * from {{ ref('int_attribute_values_counted_over_units') }}
    where grain = 'atlas'
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
        fitzpatrick_v_vi.values_from::text as values_from,
        fitzpatrick_v_vi.counted_over::text as counted_over,
        fitzpatrick_v_vi.n_total::bigint as n_total,
        fitzpatrick_v_vi.n_images_all::bigint as n_images_all,
        fitzpatrick_v_vi.n_images_counted::bigint as n_images_counted,
        (fitzpatrick_v_vi.n_images_all - fitzpatrick_v_vi.n_images_counted)::bigint
            as n_images_without_id,
        (fitzpatrick_v_vi.n_images_all - fitzpatrick_v_vi.n_total)::bigint as n_removed,
        fitzpatrick_v_vi.n_units::bigint as n_fitzpatrick_v_vi,
        fitzpatrick_v_vi.n_known::bigint as n_fitzpatrick_known,
        (
            fitzpatrick_v_vi.n_units::double precision
            / nullif(fitzpatrick_v_vi.n_known, 0)
        ) as share_fitzpatrick_v_vi,
        {{ wilson_low('fitzpatrick_v_vi.n_units', 'fitzpatrick_v_vi.n_known') }}
            as share_fitzpatrick_v_vi_wilson_low,
        {{ wilson_high('fitzpatrick_v_vi.n_units', 'fitzpatrick_v_vi.n_known') }}
            as share_fitzpatrick_v_vi_wilson_high,
        (
            fitzpatrick_v_vi.n_known::double precision
            / nullif(fitzpatrick_v_vi.n_total, 0)
        ) as share_fitzpatrick_known,
        pediatric.n_units::bigint as n_pediatric,
        pediatric.n_known::bigint as n_age_known,
        pediatric.n_units::double precision / nullif(pediatric.n_known, 0) as share_pediatric,
        {{ wilson_low('pediatric.n_units', 'pediatric.n_known') }} as share_pediatric_wilson_low,
        {{ wilson_high('pediatric.n_units', 'pediatric.n_known') }} as share_pediatric_wilson_high,
        pediatric.n_known::double precision / nullif(pediatric.n_total, 0) as share_age_known
    from fitzpatrick_v_vi
    inner join pediatric
        on
            fitzpatrick_v_vi.values_from = pediatric.values_from
            and fitzpatrick_v_vi.counted_over = pediatric.counted_over
)

select * from final
