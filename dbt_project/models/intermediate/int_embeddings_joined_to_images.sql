{{ config(
    storage_parameters={'toast_tuple_target': 8160},
    post_hook='analyze {{ this }}',
) }}

{#- The vectors of usable images with what the neighbour steps filter on
    (model, release year). A table whose vectors stay inline (see
    macros/create_table_as.sql): every exact kNN scan reads it. It has no
    vector index, so searches on it are exact by construction. -#}

with

embeddings as (
    select * from {{ ref('stg_atlas__embeddings') }}
),

images as (
    select * from {{ ref('stg_atlas__images') }}
),

embedding_models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

joined as (
    select
        embeddings.model_id,
        embedding_models.model_name,
        embeddings.image_id,
        images.dataset_id,
        images.release_year,
        embeddings.vec
    from embeddings
    inner join images
        on embeddings.image_id = images.image_id
    inner join embedding_models
        on embeddings.model_id = embedding_models.model_id
),

final as (
    select * from joined
    order by model_id, release_year, image_id
)

select * from final
