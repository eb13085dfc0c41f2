{#- The four share columns every representation view carries, defined once:
    share of the known values with its 95% Wilson interval (NULL where
    has_share is false, e.g. the 'unknown' row), and the share known. -#}
{% macro known_share_columns(n_images='n_images', n_known='n_known', n_total='n_total', has_share='has_share') -%}
    case
        when {{ has_share }} then {{ n_images }}::double precision / {{ n_known }}
    end as share,
    case
        when {{ has_share }} then {{ wilson_low(n_images, n_known) }}
    end as wilson_low,
    case
        when {{ has_share }} then {{ wilson_high(n_images, n_known) }}
    end as wilson_high,
    case
        when {{ n_total }} > 0 then {{ n_known }}::double precision / {{ n_total }}
    end as share_known
{%- endmacro %}
