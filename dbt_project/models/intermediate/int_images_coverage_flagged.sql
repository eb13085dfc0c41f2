{{ config(post_hook='analyze {{ this }}') }}

{#- Per model and usable image: its radius (cosine distance to its
    uncovered_k-th nearest image, atlas.knn_edge), its kNN distance (mean
    distance to its knn_density_k nearest images), the model's adaptive
    radius (the uncovered_radius_quantile of all its images' radii) and
    whether the image lies beyond it: uncovered. Images with fewer stored
    neighbours than both k need are left out. -#}

with

edges as (
    select * from {{ ref('stg_atlas_knn__edges') }}
),

images as (
    select * from {{ ref('stg_atlas__images') }}
),

models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

phenotypes as (
    select * from {{ ref('int_image_phenotypes_grouped') }}
),

neighbourhoods as (
    select
        model_id,
        image_id,
        count(*) as n_neighbours,
        max(cosine_distance) filter (
            where neighbour_rank = {{ var('uncovered_k') }}
        ) as kth_neighbour_distance,
        avg(cosine_distance) filter (
            where neighbour_rank <= {{ var('knn_density_k') }}
        ) as mean_neighbour_distance
    from edges
    where neighbour_rank <= greatest({{ var('uncovered_k') }}, {{ var('knn_density_k') }})
    group by model_id, image_id
),

measured as (
    select * from neighbourhoods
    where n_neighbours = greatest({{ var('uncovered_k') }}, {{ var('knn_density_k') }})
),

radii as (
    -- the adaptive radius: a high quantile of the model's own k-NN radii
    select
        model_id,
        percentile_cont({{ var('uncovered_radius_quantile') }}) within group (
            order by kth_neighbour_distance
        ) as uncovered_radius
    from measured
    group by model_id
),

final as (
    select
        measured.model_id,
        models.model_name,
        measured.image_id,
        datasets.dataset_slug,
        phenotypes.diagnosis_group,
        phenotypes.fitzpatrick_group,
        phenotypes.age_bin,
        measured.kth_neighbour_distance,
        measured.mean_neighbour_distance,
        radii.uncovered_radius,
        measured.kth_neighbour_distance > radii.uncovered_radius as is_uncovered
    from measured
    inner join images
        on measured.image_id = images.image_id
    inner join models
        on measured.model_id = models.model_id
    inner join datasets
        on images.dataset_id = datasets.dataset_id
    inner join phenotypes
        on measured.image_id = phenotypes.image_id
    inner join radii
        on measured.model_id = radii.model_id
)

select * from final
