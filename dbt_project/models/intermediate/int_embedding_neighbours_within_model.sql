{{ config(post_hook='analyze {{ this }}') }}

{#- Each image's near_duplicate_candidates_k nearest images of the same
    model by cosine distance, read from the kNN edge table that `skinmap
    knn` fills (SQL engine: exact scan for small sets, HNSW beyond; exact
    engine: torch; ivf engine: k-means cells in torch). Both ends must still
    be usable images. -#}

with

edges as (
    select * from {{ ref('stg_atlas_knn__edges') }}
),

embeddings as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

embeddings_b as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

candidate_edges as (
    select * from edges
    where neighbour_rank <= {{ var('near_duplicate_candidates_k') }}
),

usable_edges as (
    select
        candidate_edges.model_id,
        embeddings.model_name,
        candidate_edges.image_id,
        candidate_edges.neighbour_image_id,
        candidate_edges.cosine_distance,
        candidate_edges.neighbour_rank
    from candidate_edges
    inner join embeddings
        on
            candidate_edges.model_id = embeddings.model_id
            and candidate_edges.image_id = embeddings.image_id
    inner join embeddings_b
        on
            candidate_edges.model_id = embeddings_b.model_id
            and candidate_edges.neighbour_image_id = embeddings_b.image_id
),

final as (
    select * from usable_edges
)

select * from final
