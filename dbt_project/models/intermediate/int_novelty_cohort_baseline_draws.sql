{{ config(post_hook='analyze {{ this }}') }}

{#- The null baseline of each novelty cohort, one row per draw: the mean
    novelty of min(|Q|, novelty_baseline_max_sample) images drawn with
    replacement from the cohort's reference images. Deterministic hash
    sampling (macro novelty_baseline_sampled_indexes, as in
    int_novelty_baseline_draws); novelty_group_baseline_draws
    draws per cohort (cohorts are many, so fewer draws than per year). The
    sampled indexes are materialised: inlined, the planner folded the join to
    the references into the sampling and compared every pair (100x slower). -#}

with

queries as (
    select * from {{ ref('int_novelty_cohort_queries') }}
),

references_ as (
    select * from {{ ref('int_novelty_cohort_references') }}
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

cohorts as (
    select
        model_id,
        cohort_kind,
        group_value,
        reference_group,
        release_year,
        count(*) as n_query
    from queries
    group by model_id, cohort_kind, group_value, reference_group, release_year
),

sample_plans as (
    select
        cohorts.model_id,
        cohorts.cohort_kind,
        cohorts.group_value,
        cohorts.reference_group,
        cohorts.release_year,
        reference_sizes.n_reference,
        least(cohorts.n_query, {{ var('novelty_baseline_max_sample') }}) as n_sample
    from cohorts
    inner join reference_sizes
        on
            cohorts.model_id = reference_sizes.model_id
            and cohorts.cohort_kind = reference_sizes.cohort_kind
            and cohorts.reference_group = reference_sizes.reference_group
            and cohorts.release_year = reference_sizes.release_year
),

sampled_indexes as materialized (
    {{ novelty_baseline_sampled_indexes(
        columns=[
            'model_id', 'cohort_kind', 'group_value', 'reference_group',
            'release_year', 'n_sample',
        ],
        hash_keys=['model_id', 'cohort_kind', 'group_value', 'release_year'],
        draws_var='novelty_group_baseline_draws',
    ) }}
),

draw_means as (
    select
        sampled_indexes.model_id,
        sampled_indexes.cohort_kind,
        sampled_indexes.group_value,
        sampled_indexes.release_year,
        sampled_indexes.draw,
        sampled_indexes.n_sample,
        avg(references_.novelty) as draw_mean
    from sampled_indexes
    inner join references_
        on
            sampled_indexes.model_id = references_.model_id
            and sampled_indexes.cohort_kind = references_.cohort_kind
            and sampled_indexes.reference_group = references_.reference_group
            and sampled_indexes.release_year = references_.release_year
            and sampled_indexes.reference_index = references_.reference_index
    group by
        sampled_indexes.model_id,
        sampled_indexes.cohort_kind,
        sampled_indexes.group_value,
        sampled_indexes.release_year,
        sampled_indexes.draw,
        sampled_indexes.n_sample
),

final as (
    select * from draw_means
)

select * from final
