{#- v2: identity clusters per evidence (int_identity_clusters_labelled):
    source_id, exact_pixels and their union any with model_name NULL,
    near_duplicate and any (with the model-independent evidence) per model.
    The representative is the earliest released copy (release year, then
    dataset release order, then image id). -#}

with

members as (
    select * from {{ ref('int_identity_clusters_labelled') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

clusters as (
    select
        members.evidence,
        members.model_name,
        members.cluster_id,
        count(*) as n_images,
        count(distinct members.dataset_id) as n_datasets,
        min(members.image_id) filter (where members.is_representative) as representative_image_id,
        array_agg(members.image_id order by members.image_id) as image_ids,
        array_agg(distinct datasets.dataset_slug order by datasets.dataset_slug) as dataset_slugs
    from members
    inner join datasets
        on members.dataset_id = datasets.dataset_id
    group by members.evidence, members.model_id, members.model_name, members.cluster_id
),

final as (
    select
        model_name::text as model_name,
        cluster_id::bigint as cluster_id,
        n_images::bigint as n_images,
        n_datasets::bigint as n_datasets,
        n_datasets > 1 as is_cross_dataset,
        representative_image_id::bigint as representative_image_id,
        image_ids::bigint[] as image_ids,
        dataset_slugs::text[] as dataset_slugs,
        evidence::text as evidence
    from clusters
)

select * from final
