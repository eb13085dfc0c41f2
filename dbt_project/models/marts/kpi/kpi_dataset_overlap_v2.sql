{#- v2: every row names the evidence that found the overlap. Model-independent
    evidence (source_id, exact_pixels, and their union any) has model_name
    NULL and exists without any embedding, so a metadata-only atlas gets its
    id-based overlap; near_duplicate and any carry each embedding model's
    name (any = source id, exact pixels or that model's verified near
    duplicates). Denominator: all of A's usable images. -#}

with

images as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

partners as (
    select * from {{ ref('int_identity_partners_listed') }}
),

embedding_models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

datasets_b as (
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

dataset_sizes as (
    select
        dataset_id,
        count(*) as n_images
    from images
    group by dataset_id
),

dataset_sizes_b as (
    select * from dataset_sizes
),

dataset_overlaps as (
    select
        evidence,
        coalesce(model_id, 0) as scope_model_id,
        dataset_id,
        partner_dataset_id,
        count(*) as n_with_duplicate,
        count(*) filter (where is_by_source_id) as n_found_by_source_id,
        count(*) filter (where is_by_exact_pixels) as n_found_by_exact_pixels,
        count(*) filter (where is_by_near_duplicate) as n_found_by_near_duplicate
    from partners
    group by evidence, coalesce(model_id, 0), dataset_id, partner_dataset_id
),

matrix as (
    select
        evidence_scopes.evidence,
        evidence_scopes.model_name,
        dataset_sizes.dataset_id as dataset_id_a,
        dataset_sizes_b.dataset_id as dataset_id_b,
        dataset_sizes.n_images as n_images_a,
        coalesce(dataset_overlaps.n_with_duplicate, 0) as n_with_duplicate_in_b,
        coalesce(dataset_overlaps.n_found_by_source_id, 0) as n_found_by_source_id,
        coalesce(dataset_overlaps.n_found_by_exact_pixels, 0) as n_found_by_exact_pixels,
        coalesce(dataset_overlaps.n_found_by_near_duplicate, 0) as n_found_by_near_duplicate
    from evidence_scopes
    cross join dataset_sizes
    cross join dataset_sizes_b
    left join dataset_overlaps
        on
            evidence_scopes.evidence = dataset_overlaps.evidence
            and coalesce(evidence_scopes.model_id, 0) = dataset_overlaps.scope_model_id
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
            as share_with_duplicate_in_b,
        matrix.evidence::text as evidence,
        matrix.n_found_by_source_id::bigint as n_found_by_source_id,
        matrix.n_found_by_exact_pixels::bigint as n_found_by_exact_pixels,
        matrix.n_found_by_near_duplicate::bigint as n_found_by_near_duplicate
    from matrix
    inner join datasets
        on matrix.dataset_id_a = datasets.dataset_id
    inner join datasets_b
        on matrix.dataset_id_b = datasets_b.dataset_id
)

select * from final
