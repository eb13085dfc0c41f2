{{ config(post_hook='analyze {{ this }}') }}

{#- The null baseline of novelty, one row per (model, year, draw): the mean
    per-image novelty of min(|Q|, novelty_baseline_max_sample) images drawn
    from R with replacement. Sampling is deterministic and pure SQL: the
    j-th image of a draw is row number hashtext(seed:model:year:draw:j) mod |R|
    of R ordered by image_id (macro novelty_baseline_sampled_indexes), so a
    rebuild gives the same numbers. -#}

with

years as (
    select * from {{ ref('int_novelty_years_counted') }}
),

scores as (
    select * from {{ ref('int_novelty_scored_against_earlier_years') }}
),

reference_scores as (
    select
        model_id,
        release_year,
        novelty,
        row_number() over (
            partition by model_id, release_year
            order by image_id asc
        ) - 1 as reference_index
    from scores
    where not is_query
),

sample_plans as (
    select
        model_id,
        model_name,
        release_year,
        n_reference,
        least(n_query, {{ var('novelty_baseline_max_sample') }}) as n_sample
    from years
    where n_reference > 0
),

sampled_indexes as (
    {{ novelty_baseline_sampled_indexes(
        columns=['model_id', 'release_year', 'n_sample'],
        hash_keys=['model_name', 'release_year'],
        draws_var='novelty_baseline_draws',
    ) }}
),

draw_means as (
    select
        sampled_indexes.model_id,
        sampled_indexes.release_year,
        sampled_indexes.draw,
        sampled_indexes.n_sample,
        avg(reference_scores.novelty) as draw_mean
    from sampled_indexes
    inner join reference_scores
        on
            sampled_indexes.model_id = reference_scores.model_id
            and sampled_indexes.release_year = reference_scores.release_year
            and sampled_indexes.reference_index = reference_scores.reference_index
    group by
        sampled_indexes.model_id,
        sampled_indexes.release_year,
        sampled_indexes.draw,
        sampled_indexes.n_sample
),

final as (
    select * from draw_means
)

select * from final
