{{ config(post_hook='analyze {{ this }}') }}

{#- Identity clusters: connected components of the pairs of one evidence
    and model (int_identity_pairs_evidenced; model_id NULL for the
    model-independent evidence). Each image in a pair gets the smallest
    image id it can reach as its cluster_id; the representative is the
    cluster's earliest released copy (release year, then dataset release
    order, then image id), the same rule as int_images_keyed_by_identity.
    Like int_near_duplicate_clusters_labelled, the walk is quadratic in a
    component's size; identity components are small. -#}

with recursive

pairs as (
    select * from {{ ref('int_identity_pairs_evidenced') }}
),

images as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

directed_edges as (
    select
        evidence,
        coalesce(model_id, 0) as scope_model_id,
        image_id_a as image_id,
        image_id_b as other_image_id
    from pairs
    union all
    select
        evidence,
        coalesce(model_id, 0) as scope_model_id,
        image_id_b as image_id,
        image_id_a as other_image_id
    from pairs
),

reachable (evidence, scope_model_id, image_id, reached_image_id) as (
    select distinct
        evidence,
        scope_model_id,
        image_id,
        image_id as reached_image_id
    from directed_edges
    union
    select
        reachable.evidence,
        reachable.scope_model_id,
        reachable.image_id,
        directed_edges.other_image_id as reached_image_id
    from reachable
    inner join directed_edges
        on
            reachable.evidence = directed_edges.evidence
            and reachable.scope_model_id = directed_edges.scope_model_id
            and reachable.reached_image_id = directed_edges.image_id
),

labelled as (
    select
        evidence,
        scope_model_id,
        image_id,
        min(reached_image_id) as cluster_id
    from reachable
    group by evidence, scope_model_id, image_id
),

model_names as (
    select distinct
        coalesce(model_id, 0) as scope_model_id,
        model_id,
        model_name
    from pairs
),

ranked as (
    select
        labelled.evidence,
        model_names.model_id,
        model_names.model_name,
        labelled.cluster_id,
        labelled.image_id,
        images.dataset_id,
        images.release_year,
        row_number() over (
            partition by labelled.evidence, labelled.scope_model_id, labelled.cluster_id
            order by
                images.release_year asc nulls last,
                images.dataset_release_order asc,
                labelled.image_id asc
        ) = 1 as is_representative
    from labelled
    inner join images
        on labelled.image_id = images.image_id
    inner join model_names
        on labelled.scope_model_id = model_names.scope_model_id
),

final as (
    select * from ranked
)

select * from final
