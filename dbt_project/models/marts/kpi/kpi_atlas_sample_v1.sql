{#- A deterministic sample of embedded images per model, with their vectors
    as real[], for the report's 2-D map of the atlas (PCA in the reader's
    process). Sampled by a hash of the image id, so reruns draw the same
    images; at most atlas_sample_max_per_model per model. -#}

with

embeddings as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

metadata as (
    select * from {{ ref('stg_atlas__image_metadata') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

ranked as (
    select
        embeddings.model_name,
        embeddings.image_id,
        embeddings.dataset_id,
        embeddings.release_year,
        embeddings.vec,
        row_number() over (
            partition by embeddings.model_id
            order by md5(embeddings.image_id::text), embeddings.image_id
        ) as sample_rank
    from embeddings
),

final as (
    select
        ranked.model_name::text as model_name,
        ranked.image_id::bigint as image_id,
        datasets.dataset_slug::text as dataset_slug,
        ranked.release_year::integer as release_year,
        coalesce(metadata.fitzpatrick_group, 'unknown')::text as fitzpatrick_group,
        ranked.sample_rank::bigint as sample_rank,
        ranked.vec::real[] as vec
    from ranked
    inner join datasets
        on ranked.dataset_id = datasets.dataset_id
    left join metadata
        on ranked.image_id = metadata.image_id
    where ranked.sample_rank <= {{ var('atlas_sample_max_per_model', 2000) }}
)

select * from final
