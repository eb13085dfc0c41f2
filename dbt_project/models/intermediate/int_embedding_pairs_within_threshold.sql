{{ config(post_hook='analyze {{ this }}') }}

{#- Verified near-duplicate pairs per model (image_id_a < image_id_b): a
    nearest-neighbour candidate at cosine distance <= tau that its local-
    feature verdict confirms (n_inliers >= near_duplicate_min_inliers), or
    any two images with the same pixel hash (exact duplicates, kept whatever
    their scores). A candidate without a verdict (no readable file, imported
    vectors, verify-duplicates not run) falls back to its mirror-aware
    pixel-signature similarity (>= sigma); verified_by says which decided.
    A degenerate image (flat, striped, no information: int_images_quality_
    flagged) is in no pair: junk of one kind would otherwise form clusters;
    kpi_image_quality_flags lists it instead. -#}

with

neighbours as (
    select * from {{ ref('int_embedding_neighbours_within_model') }}
),

embeddings as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

embeddings_b as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

images as (
    select * from {{ ref('stg_atlas__images') }}
),

images_b as (
    select * from {{ ref('stg_atlas__images') }}
),

signatures as (
    select * from {{ ref('stg_atlas__pixel_signatures') }}
),

signatures_b as (
    select * from {{ ref('stg_atlas__pixel_signatures') }}
),

degenerate_images as (
    select image_id from {{ ref('int_images_quality_flagged') }}
    where is_degenerate
),

verdicts as (
    select * from {{ ref('stg_atlas__duplicate_verifications') }}
    where
        verification_method = '{{ var("near_duplicate_verification_method") }}'
        and n_inliers is not null
),

candidate_pairs as (
    select distinct
        model_id,
        least(image_id, neighbour_image_id) as image_id_a,
        greatest(image_id, neighbour_image_id) as image_id_b
    from neighbours
    where cosine_distance <= {{ var('near_duplicate_max_distance') }}
),

exact_duplicate_pairs as (
    select
        images.image_id as image_id_a,
        images_b.image_id as image_id_b
    from images
    inner join images_b
        on
            images.pixel_sha256 = images_b.pixel_sha256
            and images.image_id < images_b.image_id
),

exact_pairs_per_model as (
    select
        embeddings.model_id,
        exact_duplicate_pairs.image_id_a,
        exact_duplicate_pairs.image_id_b
    from exact_duplicate_pairs
    inner join embeddings
        on exact_duplicate_pairs.image_id_a = embeddings.image_id
    inner join embeddings_b
        on
            exact_duplicate_pairs.image_id_b = embeddings_b.image_id
            and embeddings.model_id = embeddings_b.model_id
),

all_pairs as (
    select
        coalesce(candidate_pairs.model_id, exact_pairs_per_model.model_id) as model_id,
        coalesce(candidate_pairs.image_id_a, exact_pairs_per_model.image_id_a) as image_id_a,
        coalesce(candidate_pairs.image_id_b, exact_pairs_per_model.image_id_b) as image_id_b,
        exact_pairs_per_model.model_id is not null as is_exact_duplicate
    from candidate_pairs
    full outer join exact_pairs_per_model
        on
            candidate_pairs.model_id = exact_pairs_per_model.model_id
            and candidate_pairs.image_id_a = exact_pairs_per_model.image_id_a
            and candidate_pairs.image_id_b = exact_pairs_per_model.image_id_b
),

scored_pairs as (
    select
        all_pairs.model_id,
        embeddings.model_name,
        all_pairs.image_id_a,
        all_pairs.image_id_b,
        embeddings.dataset_id as dataset_id_a,
        embeddings_b.dataset_id as dataset_id_b,
        all_pairs.is_exact_duplicate,
        embeddings.vec <=> embeddings_b.vec as cosine_distance,
        greatest(
            1 - (signatures.signature <=> signatures_b.signature),
            1 - (signatures.signature <=> signatures_b.signature_mirrored)
        ) as signature_similarity,
        verdicts.n_inliers
    from all_pairs
    inner join embeddings
        on
            all_pairs.model_id = embeddings.model_id
            and all_pairs.image_id_a = embeddings.image_id
    inner join embeddings_b
        on
            all_pairs.model_id = embeddings_b.model_id
            and all_pairs.image_id_b = embeddings_b.image_id
    left join signatures
        on all_pairs.image_id_a = signatures.image_id
    left join signatures_b
        on all_pairs.image_id_b = signatures_b.image_id
    left join verdicts
        on
            all_pairs.image_id_a = verdicts.image_id_a
            and all_pairs.image_id_b = verdicts.image_id_b
),

decided_pairs as (
    select
        *,
        case
            when is_exact_duplicate then 'exact_pixels'
            when cosine_distance > {{ var('near_duplicate_max_distance') }} then null
            when n_inliers is not null
                then
                    case
                        when
                            n_inliers >= {{ var('near_duplicate_min_inliers') }}
                            then 'local_features'
                    end
            when
                signature_similarity
                >= {{ var('near_duplicate_min_signature_similarity') }}
                then 'pixel_signature'
        end as verified_by
    from scored_pairs
),

verified_pairs as (
    select * from decided_pairs
    where
        verified_by is not null
        and image_id_a not in (select degenerate_images.image_id from degenerate_images)
        and image_id_b not in (select degenerate_images.image_id from degenerate_images)
),

final as (
    select
        model_id,
        model_name,
        image_id_a,
        image_id_b,
        dataset_id_a,
        dataset_id_b,
        dataset_id_a <> dataset_id_b as is_cross_dataset,
        cosine_distance,
        signature_similarity,
        n_inliers,
        verified_by,
        is_exact_duplicate
    from verified_pairs
)

select * from final
