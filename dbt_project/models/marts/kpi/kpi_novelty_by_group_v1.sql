with

queries as (
    select * from {{ ref('int_novelty_cohort_queries') }}
),

references_ as (
    select * from {{ ref('int_novelty_cohort_references') }}
),

baseline_draws as (
    select * from {{ ref('int_novelty_cohort_baseline_draws') }}
),

cohorts as (
    select
        model_id,
        model_name,
        cohort_kind,
        group_value,
        reference_group,
        release_year,
        count(*) as n_query,
        avg(novelty) as raw_novelty
    from queries
    group by model_id, model_name, cohort_kind, group_value, reference_group, release_year
),

reference_sizes as (
    select
        model_id,
        cohort_kind,
        reference_group,
        release_year,
        count(*) as n_reference
    from references_
    group by model_id, cohort_kind, reference_group, release_year
),

baseline as (
    select
        model_id,
        cohort_kind,
        group_value,
        release_year,
        {{ novelty_baseline_aggregates() }}
    from baseline_draws
    where draw_mean is not null
    group by model_id, cohort_kind, group_value, release_year
),

final as (
    select
        cohorts.model_name::text as model_name,
        cohorts.cohort_kind::text as cohort_kind,
        cohorts.group_value::text as group_value,
        cohorts.release_year::integer as release_year,
        cohorts.n_query::bigint as n_query,
        coalesce(reference_sizes.n_reference, 0)::bigint as n_baseline_reference,
        cohorts.raw_novelty::double precision as raw_novelty,
        {{ novelty_baseline_columns('cohorts.raw_novelty') }}
    from cohorts
    left join reference_sizes
        on
            cohorts.model_id = reference_sizes.model_id
            and cohorts.cohort_kind = reference_sizes.cohort_kind
            and cohorts.reference_group = reference_sizes.reference_group
            and cohorts.release_year = reference_sizes.release_year
    left join baseline
        on
            cohorts.model_id = baseline.model_id
            and cohorts.cohort_kind = baseline.cohort_kind
            and cohorts.group_value = baseline.group_value
            and cohorts.release_year = baseline.release_year
)

select * from final
