with

pairs as (
    select * from {{ ref('int_embedding_pairs_within_threshold') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

datasets_b as (
    select * from {{ ref('stg_atlas__datasets') }}
),

final as (
    select
        pairs.model_name::text as model_name,
        pairs.image_id_a::bigint as image_id_a,
        pairs.image_id_b::bigint as image_id_b,
        datasets.dataset_slug::text as dataset_slug_a,
        datasets_b.dataset_slug::text as dataset_slug_b,
        pairs.is_cross_dataset::boolean as is_cross_dataset,
        pairs.cosine_distance::double precision as cosine_distance,
        pairs.signature_similarity::double precision as signature_similarity,
        pairs.n_inliers::integer as n_inliers,
        pairs.verified_by::text as verified_by,
        pairs.is_exact_duplicate::boolean as is_exact_duplicate
    from pairs
    inner join datasets
        on pairs.dataset_id_a = datasets.dataset_id
    inner join datasets_b
        on pairs.dataset_id_b = datasets_b.dataset_id
)

select * from final
