with

embeddings as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

partners as (
    select * from {{ ref('int_near_duplicate_partners_listed') }}
),

clusters as (
    select * from {{ ref('int_near_duplicate_clusters_labelled') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

partner_datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

dataset_order as (
    select
        dataset_id,
        row_number() over (
            order by dataset_release_year asc nulls last, dataset_id asc
        ) as release_order
    from datasets
),

partner_order as (
    select * from dataset_order
),

image_flags as (
    select
        partners.model_id,
        partners.image_id,
        bool_or(partners.partner_dataset_id = partners.dataset_id) as is_duplicated_within,
        bool_or(partner_order.release_order < dataset_order.release_order) as is_in_earlier_dataset
    from partners
    inner join dataset_order
        on partners.dataset_id = dataset_order.dataset_id
    inner join partner_order
        on partners.partner_dataset_id = partner_order.dataset_id
    group by partners.model_id, partners.image_id
),

per_dataset as (
    select
        embeddings.model_id,
        embeddings.model_name,
        embeddings.dataset_id,
        count(*) as n_images,
        count(*) filter (where image_flags.is_duplicated_within) as n_duplicated_within,
        count(*) filter (where image_flags.is_in_earlier_dataset) as n_in_earlier_datasets,
        count(*) filter (
            where clusters.image_id is null or clusters.is_representative
        ) as n_unique_images
    from embeddings
    left join image_flags
        on
            embeddings.model_id = image_flags.model_id
            and embeddings.image_id = image_flags.image_id
    left join clusters
        on
            embeddings.model_id = clusters.model_id
            and embeddings.image_id = clusters.image_id
    group by embeddings.model_id, embeddings.model_name, embeddings.dataset_id
),

final as (
    select
        per_dataset.model_name::text as model_name,
        partner_datasets.dataset_slug::text as dataset_slug,
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
            as share_unique_images
    from per_dataset
    inner join partner_datasets
        on per_dataset.dataset_id = partner_datasets.dataset_id
)

select * from final
