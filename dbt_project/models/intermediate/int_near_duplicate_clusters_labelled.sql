{{ config(post_hook='analyze {{ this }}') }}

{#- Duplicate clusters: connected components of the verified near-duplicate
    graph (exact duplicates included), per model. Each image in a pair gets
    the smallest image id it can reach as its cluster_id; the representative
    is the cluster's earliest released image (then the smallest id). The
    recursive walk is quadratic in a component's size, and duplicate
    components are small. -#}

with recursive

pairs as (
    select * from {{ ref('int_embedding_pairs_within_threshold') }}
),

embeddings as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

directed_edges as (
    select
        model_id,
        image_id_a as image_id,
        image_id_b as other_image_id
    from pairs
    union all
    select
        model_id,
        image_id_b as image_id,
        image_id_a as other_image_id
    from pairs
),

reachable (model_id, image_id, reached_image_id) as (
    select distinct
        model_id,
        image_id,
        image_id as reached_image_id
    from directed_edges
    union
    select
        reachable.model_id,
        reachable.image_id,
        directed_edges.other_image_id as reached_image_id
    from reachable
    inner join directed_edges
        on
            reachable.model_id = directed_edges.model_id
            and reachable.reached_image_id = directed_edges.image_id
),

labelled as (
    select
        model_id,
        image_id,
        min(reached_image_id) as cluster_id
    from reachable
    group by model_id, image_id
),

with_years as (
    select
        labelled.model_id,
        embeddings.model_name,
        labelled.cluster_id,
        labelled.image_id,
        embeddings.dataset_id,
        embeddings.release_year,
        row_number() over (
            partition by labelled.model_id, labelled.cluster_id
            order by embeddings.release_year asc nulls last, labelled.image_id asc
        ) = 1 as is_representative
    from labelled
    inner join embeddings
        on
            labelled.model_id = embeddings.model_id
            and labelled.image_id = embeddings.image_id
),

final as (
    select * from with_years
)

select * from final
