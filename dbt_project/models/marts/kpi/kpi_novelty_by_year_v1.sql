with

years as (
    select * from {{ ref('int_novelty_years_counted') }}
),

scores as (
    select * from {{ ref('int_novelty_scored_against_earlier_years') }}
),

baseline_draws as (
    select * from {{ ref('int_novelty_baseline_draws') }}
),

raw_novelty as (
    select
        model_id,
        release_year,
        avg(novelty) as raw_novelty
    from scores
    where is_query
    group by model_id, release_year
),

baseline as (
    select
        model_id,
        release_year,
        {{ novelty_baseline_aggregates() }}
    from baseline_draws
    where draw_mean is not null
    group by model_id, release_year
),

final as (
    select
        years.model_name::text as model_name,
        years.release_year::integer as release_year,
        years.n_query::bigint as n_query,
        years.n_reference::bigint as n_reference,
        case
            when years.n_reference > 0 then least({{ var('novelty_k') }}, years.n_reference)
        end::integer as k,
        raw_novelty.raw_novelty::double precision as raw_novelty,
        {{ novelty_baseline_columns('raw_novelty.raw_novelty') }}
    from years
    left join raw_novelty
        on
            years.model_id = raw_novelty.model_id
            and years.release_year = raw_novelty.release_year
    left join baseline
        on
            years.model_id = baseline.model_id
            and years.release_year = baseline.release_year
)

select * from final
