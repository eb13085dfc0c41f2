{{ config(post_hook='analyze {{ this }}') }}

{#- The engines' per-image novelty (atlas.knn_novelty) with what the novelty
    marts group by: the image's own year, dataset, modality, ICD block and
    Fitzpatrick group ('unknown' when missing). One row per model, cutoff
    year c and usable image released in c or earlier. -#}

with

novelty as (
    select * from {{ ref('stg_atlas_knn__novelty') }}
),

embeddings as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

images as (
    select * from {{ ref('stg_atlas__images') }}
),

metadata as (
    select * from {{ ref('stg_atlas__image_metadata') }}
),

joined as (
    select
        novelty.model_id,
        embeddings.model_name,
        novelty.cutoff_year,
        novelty.image_id,
        embeddings.release_year as image_release_year,
        embeddings.dataset_id,
        images.modality,
        coalesce(metadata.icd10_block, 'unknown') as icd10_block,
        coalesce(metadata.fitzpatrick_group, 'unknown') as fitzpatrick_group,
        novelty.n_neighbours,
        novelty.novelty
    from novelty
    inner join embeddings
        on
            novelty.model_id = embeddings.model_id
            and novelty.image_id = embeddings.image_id
    inner join images
        on novelty.image_id = images.image_id
    left join metadata
        on novelty.image_id = metadata.image_id
    where embeddings.release_year <= novelty.cutoff_year
),

final as (
    select * from joined
)

select * from final
