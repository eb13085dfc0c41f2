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

{#- The deterministic sampling of a novelty null baseline, once for every
    baseline model: a select over `plans` (rows with n_sample and n_reference)
    giving, per plan row, var(draws_var) draws of n_sample positions each,
    with reference_index = |hashtext(seed:hash_keys...:draw:position)| mod
    n_reference (row number in the references ordered as the model orders
    them). Pure SQL and seeded, so a rebuild gives the same draws. Returns
    `columns` of the plan, then draw and reference_index. -#}
{% macro novelty_baseline_sampled_indexes(columns, hash_keys, draws_var, plans='sample_plans') -%}
    select
        {%- for column in columns %}
        {{ plans }}.{{ column }},
        {%- endfor %}
        draws.draw,
        abs(hashtext(concat_ws(
            ':',
            {{ var('novelty_seed') }},
            {%- for key in hash_keys %}
            {{ plans }}.{{ key }},
            {%- endfor %}
            draws.draw,
            positions.sample_position
        ))::bigint) % {{ plans }}.n_reference as reference_index
    from {{ plans }}
    cross join generate_series(1, {{ var(draws_var) }}) as draws (draw)
    cross join lateral generate_series(1, {{ plans }}.n_sample) as positions (sample_position)
{%- endmacro %}
