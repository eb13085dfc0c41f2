{#- 95% Wilson score interval for a share n_success / n_trials (better than
    the normal approximation for small counts and shares near 0 or 1).
    NULL when n_trials is 0; clamped to [0, 1] against rounding. -#}
{% macro wilson_bound(n_success, n_trials, sign, z=1.959964) -%}
    case
        when {{ n_trials }} > 0 then greatest(0.0, least(1.0, (
            {{ n_success }}::double precision / {{ n_trials }}
            + {{ z }} ^ 2 / (2.0 * {{ n_trials }})
            {{ sign }} {{ z }} * sqrt(
                ({{ n_success }}::double precision / {{ n_trials }})
                * (1 - {{ n_success }}::double precision / {{ n_trials }})
                / {{ n_trials }}
                + {{ z }} ^ 2 / (4.0 * {{ n_trials }} ^ 2)
            )
        ) / (1 + {{ z }} ^ 2 / {{ n_trials }})))::double precision
    end
{%- endmacro %}

{% macro wilson_low(n_success, n_trials, z=1.959964) -%}
    {{ wilson_bound(n_success, n_trials, '-', z) }}
{%- endmacro %}

{% macro wilson_high(n_success, n_trials, z=1.959964) -%}
    {{ wilson_bound(n_success, n_trials, '+', z) }}
{%- endmacro %}
