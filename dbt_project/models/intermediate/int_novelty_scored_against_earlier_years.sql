{{ config(post_hook='analyze {{ this }}') }}

{#- Per-image novelty for every model and release year y with earlier data:
    the mean cosine distance to the novelty_k nearest images released before
    y, as computed by the kNN engines. Scored are the images of y (is_query:
    the query set Q) and, for the null baseline, every image of R = years
    < y, inside R and leaving itself out. Where R holds fewer than k
    candidates all of them are used (n_neighbours says how many); an image
    with no candidate (|R| = 1 for the baseline) gets NULL. -#}

with

years as (
    select * from {{ ref('int_novelty_years_counted') }}
),

scores as (
    select * from {{ ref('int_novelty_scored_by_cutoff') }}
),

years_with_reference as (
    select * from years
    where n_reference > 0
),

scored as (
    select
        years_with_reference.model_id,
        years_with_reference.model_name,
        years_with_reference.release_year,
        scores.image_id,
        scores.image_release_year = years_with_reference.release_year as is_query,
        scores.n_neighbours::bigint as n_neighbours,
        scores.novelty
    from years_with_reference
    inner join scores
        on
            years_with_reference.model_id = scores.model_id
            and years_with_reference.release_year = scores.cutoff_year
),

final as (
    select * from scored
)

select * from final
