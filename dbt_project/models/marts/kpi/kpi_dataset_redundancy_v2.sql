{#- v2: per evidence (source_id, exact_pixels, near_duplicate, any; see
    kpi_dataset_overlap_v2) and dataset, over all usable images: duplicated
    inside the dataset, already in an earlier dataset, and unique (in no
    identity cluster of that evidence, or its representative). model_name
    is NULL for model-independent evidence. -#}

with

images as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

partners as (
    select * from {{ ref('int_identity_partners_listed') }}
),

clusters as (
    select * from {{ ref('int_identity_clusters_labelled') }}
),

embedding_models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

partner_images as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

evidence_scopes as (
    select
        model_independent.evidence,
        null::integer as model_id,
        null::text as model_name
    from (values ('source_id'), ('exact_pixels'), ('any')) as model_independent (evidence)
    union all
    select
        per_model.evidence,
        embedding_models.model_id,
        embedding_models.model_name
    from embedding_models
    cross join (values ('near_duplicate'), ('any')) as per_model (evidence)
),

partner_order as (
    select distinct
        dataset_id,
        dataset_release_order
    from partner_images
),

image_flags as (
    select
        partners.evidence,
        coalesce(partners.model_id, 0) as scope_model_id,
        partners.image_id,
        bool_or(partners.partner_dataset_id = partners.dataset_id) as is_duplicated_within,
        bool_or(
            partner_order.dataset_release_order < images.dataset_release_order
        ) as is_in_earlier_dataset
    from partners
    inner join images
        on partners.image_id = images.image_id
    inner join partner_order
        on partners.partner_dataset_id = partner_order.dataset_id
    group by partners.evidence, coalesce(partners.model_id, 0), partners.image_id
),

cluster_flags as (
    select
        evidence,
        coalesce(model_id, 0) as scope_model_id,
        image_id,
        is_representative
    from clusters
),

per_dataset as (
    select
        evidence_scopes.evidence,
        evidence_scopes.model_name,
        images.dataset_id,
        count(*) as n_images,
        count(*) filter (where image_flags.is_duplicated_within) as n_duplicated_within,
        count(*) filter (where image_flags.is_in_earlier_dataset) as n_in_earlier_datasets,
        count(*) filter (
            where cluster_flags.image_id is null or cluster_flags.is_representative
        ) as n_unique_images
    from evidence_scopes
    cross join images
    left join image_flags
        on
            evidence_scopes.evidence = image_flags.evidence
            and coalesce(evidence_scopes.model_id, 0) = image_flags.scope_model_id
            and images.image_id = image_flags.image_id
    left join cluster_flags
        on
            evidence_scopes.evidence = cluster_flags.evidence
            and coalesce(evidence_scopes.model_id, 0) = cluster_flags.scope_model_id
            and images.image_id = cluster_flags.image_id
    group by evidence_scopes.evidence, evidence_scopes.model_name, images.dataset_id
),

final as (
    select
        per_dataset.model_name::text as model_name,
        datasets.dataset_slug::text as dataset_slug,
        per_dataset.n_images::bigint as n_images,
        per_dataset.n_duplicated_within::bigint as n_duplicated_within,
        (per_dataset.n_duplicated_within::double precision / per_dataset.n_images)::double precision
            as share_duplicated_within,
        per_dataset.n_in_earlier_datasets::bigint as n_in_earlier_datasets,
        (
            per_dataset.n_in_earlier_datasets::double precision / per_dataset.n_images
        )::double precision
            as share_in_earlier_datasets,
        per_dataset.n_unique_images::bigint as n_unique_images,
        (per_dataset.n_unique_images::double precision / per_dataset.n_images)::double precision
            as share_unique_images,
        per_dataset.evidence::text as evidence
    from per_dataset
    inner join datasets
        on per_dataset.dataset_id = datasets.dataset_id
)

select * from final
