{{ config(
    pre_hook='set local enable_indexscan = off',
    post_hook='analyze {{ this }}',
) }}

{#- Per-image novelty for every model and release year y with earlier data:
    the mean cosine distance to the novelty_k nearest images released before
    y (exact kNN, see int_embedding_neighbours_within_model). Scored are the
    images of y (is_query: the query set Q) and, for the null baseline, every
    image of R = years < y, inside R and leaving itself out. Where R holds
    fewer than k candidates all of them are used (n_neighbours says how
    many); an image with no candidate (|R| = 1 for the baseline) gets NULL. -#}

with

years as (
    select * from {{ ref('int_novelty_years_counted') }}
),

scored_images as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

reference_images as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

years_with_reference as (
    select * from years
    where n_reference > 0
),

images_to_score as (
    select
        years_with_reference.model_id,
        years_with_reference.model_name,
        years_with_reference.release_year,
        scored_images.image_id,
        scored_images.release_year = years_with_reference.release_year as is_query,
        scored_images.vec
    from years_with_reference
    inner join scored_images
        on
            years_with_reference.model_id = scored_images.model_id
            and years_with_reference.release_year >= scored_images.release_year
),

neighbours as (
    select
        images_to_score.model_id,
        images_to_score.model_name,
        images_to_score.release_year,
        images_to_score.image_id,
        images_to_score.is_query,
        earlier.cosine_distance
    from images_to_score
    left join lateral (
        select reference_images.vec <=> images_to_score.vec as cosine_distance
        from reference_images
        where
            reference_images.model_id = images_to_score.model_id
            and reference_images.release_year < images_to_score.release_year
            and reference_images.image_id <> images_to_score.image_id
        order by cosine_distance asc, reference_images.image_id asc
        limit {{ var('novelty_k') }}
    ) as earlier on true
),

scored as (
    select
        model_id,
        model_name,
        release_year,
        image_id,
        is_query,
        count(cosine_distance) as n_neighbours,
        avg(cosine_distance) as novelty
    from neighbours
    group by model_id, model_name, release_year, image_id, is_query
),

final as (
    select * from scored
)

select * from final
