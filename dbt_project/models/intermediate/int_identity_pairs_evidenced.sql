{{ config(post_hook='analyze {{ this }}') }}

{#- Pairs of rows that are one image (image_id_a < image_id_b), with the
    evidence that found them. Model-independent evidence (model_id NULL):
    'source_id' (same shared source id, works in a metadata-only atlas) and
    'exact_pixels' (same decoded-pixel hash). Per embedding model:
    'near_duplicate' (a verified pair of int_embedding_pairs_within_threshold
    whose pixels differ). 'any' is their union, once model-independent and
    once per model (the model-independent evidence plus that model's
    pairs); its is_by_* flags say which evidence found the pair. Pixel
    evidence leaves degenerate images out (flat, striped: two flat images
    hash alike without being one image); the quality views list them. -#}

with

images as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

images_b as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

pixel_images as (
    select * from {{ ref('stg_atlas__images') }}
),

pixel_images_b as (
    select * from {{ ref('stg_atlas__images') }}
),

degenerate_images as (
    select image_id from {{ ref('int_images_quality_flagged') }}
    where is_degenerate
),

embedding_pairs as (
    select * from {{ ref('int_embedding_pairs_within_threshold') }}
),

embedding_models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

source_id_pairs as (
    select
        images.image_id as image_id_a,
        images_b.image_id as image_id_b
    from images
    inner join images_b
        on
            images.source_image_id = images_b.source_image_id
            and images.image_id < images_b.image_id
),

exact_pixel_pairs as (
    select
        pixel_images.image_id as image_id_a,
        pixel_images_b.image_id as image_id_b
    from pixel_images
    inner join pixel_images_b
        on
            pixel_images.pixel_sha256 = pixel_images_b.pixel_sha256
            and pixel_images.image_id < pixel_images_b.image_id
    where
        pixel_images.image_id not in (
            select degenerate_images.image_id from degenerate_images
        )
        and pixel_images_b.image_id not in (
            select degenerate_images.image_id from degenerate_images
        )
),

model_independent_rows as (
    select
        image_id_a,
        image_id_b,
        true as is_by_source_id,
        false as is_by_exact_pixels
    from source_id_pairs
    union all
    select
        image_id_a,
        image_id_b,
        false as is_by_source_id,
        true as is_by_exact_pixels
    from exact_pixel_pairs
),

model_independent_pairs as (
    select
        image_id_a,
        image_id_b,
        bool_or(is_by_source_id) as is_by_source_id,
        bool_or(is_by_exact_pixels) as is_by_exact_pixels
    from model_independent_rows
    group by image_id_a, image_id_b
),

evidence_rows as (
    select
        null::integer as model_id,
        image_id_a,
        image_id_b,
        is_by_source_id,
        is_by_exact_pixels,
        false as is_by_near_duplicate
    from model_independent_pairs
    union all
    select
        embedding_models.model_id,
        model_independent_pairs.image_id_a,
        model_independent_pairs.image_id_b,
        model_independent_pairs.is_by_source_id,
        model_independent_pairs.is_by_exact_pixels,
        false as is_by_near_duplicate
    from model_independent_pairs
    cross join embedding_models
    union all
    select
        model_id,
        image_id_a,
        image_id_b,
        false as is_by_source_id,
        false as is_by_exact_pixels,
        true as is_by_near_duplicate
    from embedding_pairs
    where not is_exact_duplicate
),

scoped_pairs as (
    select
        model_id,
        image_id_a,
        image_id_b,
        bool_or(is_by_source_id) as is_by_source_id,
        bool_or(is_by_exact_pixels) as is_by_exact_pixels,
        bool_or(is_by_near_duplicate) as is_by_near_duplicate
    from evidence_rows
    group by model_id, image_id_a, image_id_b
),

evidence_kinds as (
    select kinds.evidence
    from (values ('any'), ('source_id'), ('exact_pixels'), ('near_duplicate')) as kinds (evidence)
),

evidenced as (
    select
        evidence_kinds.evidence,
        scoped_pairs.model_id,
        scoped_pairs.image_id_a,
        scoped_pairs.image_id_b,
        scoped_pairs.is_by_source_id,
        scoped_pairs.is_by_exact_pixels,
        scoped_pairs.is_by_near_duplicate
    from scoped_pairs
    cross join evidence_kinds
    where
        evidence_kinds.evidence = 'any'
        or (
            evidence_kinds.evidence = 'source_id'
            and scoped_pairs.model_id is null
            and scoped_pairs.is_by_source_id
        )
        or (
            evidence_kinds.evidence = 'exact_pixels'
            and scoped_pairs.model_id is null
            and scoped_pairs.is_by_exact_pixels
        )
        or (
            evidence_kinds.evidence = 'near_duplicate'
            and scoped_pairs.is_by_near_duplicate
        )
),

final as (
    select
        evidenced.evidence::text as evidence,
        evidenced.model_id,
        embedding_models.model_name,
        evidenced.image_id_a,
        evidenced.image_id_b,
        images.dataset_id as dataset_id_a,
        images_b.dataset_id as dataset_id_b,
        images.dataset_id <> images_b.dataset_id as is_cross_dataset,
        evidenced.is_by_source_id,
        evidenced.is_by_exact_pixels,
        evidenced.is_by_near_duplicate
    from evidenced
    inner join images
        on evidenced.image_id_a = images.image_id
    inner join images_b
        on evidenced.image_id_b = images_b.image_id
    left join embedding_models
        on evidenced.model_id = embedding_models.model_id
)

select * from final
