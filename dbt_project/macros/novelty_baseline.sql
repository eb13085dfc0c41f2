{#- The null baseline of DESIGN.md's novelty, summarised once for every
    novelty view: over the draws' means, their mean and 2.5 / 97.5
    percentiles, the number of draws and the sample size of one draw. -#}
{% macro novelty_baseline_aggregates(draw_mean='draw_mean', n_sample='n_sample') -%}
    max({{ n_sample }}) as n_baseline_sample,
    count(*) as n_baseline_draws,
    avg({{ draw_mean }}) as baseline_mean,
    percentile_cont(0.025) within group (order by {{ draw_mean }}) as baseline_p025,
    percentile_cont(0.975) within group (order by {{ draw_mean }}) as baseline_p975
{%- endmacro %}

{#- The baseline columns of a novelty view, cast to their contract types, with
    novelty_vs_baseline = raw novelty / baseline mean (NULL without a baseline). -#}
{% macro novelty_baseline_columns(raw_novelty, baseline='baseline') -%}
    {{ baseline }}.baseline_mean::double precision as baseline_mean,
    {{ baseline }}.baseline_p025::double precision as baseline_p025,
    {{ baseline }}.baseline_p975::double precision as baseline_p975,
    (
        {{ raw_novelty }} / nullif({{ baseline }}.baseline_mean, 0)
    )::double precision as novelty_vs_baseline,
    {{ baseline }}.n_baseline_draws::integer as n_baseline_draws,
    {{ baseline }}.n_baseline_sample::bigint as n_baseline_sample
{%- endmacro %}
