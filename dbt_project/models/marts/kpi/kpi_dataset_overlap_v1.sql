with

embeddings as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

partners as (
    select * from {{ ref('int_near_duplicate_partners_listed') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

datasets_b as (
    select * from {{ ref('stg_atlas__datasets') }}
),

dataset_sizes as (
    select
        model_id,
        model_name,
        dataset_id,
        count(*) as n_images
    from embeddings
    group by model_id, model_name, dataset_id
),

dataset_sizes_b as (
    select * from dataset_sizes
),

dataset_overlaps as (
    select
        model_id,
        dataset_id,
        partner_dataset_id,
        count(*) as n_with_duplicate
    from partners
    group by model_id, dataset_id, partner_dataset_id
),

matrix as (
    select
        dataset_sizes.model_name,
        dataset_sizes.dataset_id as dataset_id_a,
        dataset_sizes_b.dataset_id as dataset_id_b,
        dataset_sizes.n_images as n_images_a,
        coalesce(dataset_overlaps.n_with_duplicate, 0) as n_with_duplicate_in_b
    from dataset_sizes
    inner join dataset_sizes_b
        on dataset_sizes.model_id = dataset_sizes_b.model_id
    left join dataset_overlaps
        on
            dataset_sizes.model_id = dataset_overlaps.model_id
            and dataset_sizes.dataset_id = dataset_overlaps.dataset_id
            and dataset_sizes_b.dataset_id = dataset_overlaps.partner_dataset_id
),

final as (
    select
        matrix.model_name::text as model_name,
        datasets.dataset_slug::text as dataset_slug_a,
        datasets_b.dataset_slug::text as dataset_slug_b,
        matrix.n_images_a::bigint as n_images_a,
        matrix.n_with_duplicate_in_b::bigint as n_with_duplicate_in_b,
        (matrix.n_with_duplicate_in_b::double precision / matrix.n_images_a)::double precision
            as share_with_duplicate_in_b
    from matrix
    inner join datasets
        on matrix.dataset_id_a = datasets.dataset_id
    inner join datasets_b
        on matrix.dataset_id_b = datasets_b.dataset_id
)

select * from final
