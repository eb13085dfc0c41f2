{{ config(post_hook='analyze {{ this }}') }}

{#- Per model and usable image with a known ICD-10 code: how many of its
    label_agreement_k nearest images (atlas.knn_edge, usable ones) have a
    known code, how many share its code, the most common code among them
    (ties: the smallest code) and whether it is a suspected label error
    (enough labelled neighbours, agreement at most
    label_error_max_agreement). -#}

with

edges as (
    select * from {{ ref('stg_atlas_knn__edges') }}
),

images as (
    select * from {{ ref('stg_atlas__images') }}
),

metadata as (
    select * from {{ ref('stg_atlas__image_metadata') }}
),

-- the neighbours' side: own import CTEs, so that PostgreSQL inlines each
-- one (a CTE read twice is materialised and joined without statistics)
neighbour_images as (
    select * from {{ ref('stg_atlas__images') }}
),

neighbour_metadata as (
    select * from {{ ref('stg_atlas__image_metadata') }}
),

labelled as (
    select
        images.image_id,
        images.dataset_id,
        metadata.icd10_code
    from images
    inner join metadata
        on images.image_id = metadata.image_id
    where metadata.icd10_code is not null
),

neighbour_codes as (
    -- each labelled image's nearest usable neighbours and their codes (NULL: unknown)
    select
        edges.model_id,
        edges.image_id,
        labelled.icd10_code,
        neighbour_metadata.icd10_code as neighbour_code
    from edges
    inner join labelled
        on edges.image_id = labelled.image_id
    inner join neighbour_images
        on edges.neighbour_image_id = neighbour_images.image_id
    left join neighbour_metadata
        on edges.neighbour_image_id = neighbour_metadata.image_id
    where edges.neighbour_rank <= {{ var('label_agreement_k') }}
),

counted as (
    select
        model_id,
        image_id,
        icd10_code,
        count(*) as n_neighbours,
        count(neighbour_code) as n_labelled_neighbours,
        count(*) filter (where neighbour_code = icd10_code) as n_agreeing
    from neighbour_codes
    group by model_id, image_id, icd10_code
),

code_votes as (
    select
        model_id,
        image_id,
        neighbour_code,
        count(*) as n_votes,
        row_number() over (
            partition by model_id, image_id
            order by count(*) desc, neighbour_code
        ) as vote_rank
    from neighbour_codes
    where neighbour_code is not null
    group by model_id, image_id, neighbour_code
),

majority as (
    select * from code_votes
    where vote_rank = 1
),

final as (
    select
        counted.model_id,
        counted.image_id,
        counted.icd10_code,
        counted.n_neighbours,
        counted.n_labelled_neighbours,
        counted.n_agreeing,
        majority.neighbour_code as majority_neighbour_code,
        coalesce(majority.n_votes, 0) as n_majority_neighbours,
        case
            when counted.n_labelled_neighbours > 0
                then counted.n_agreeing::double precision / counted.n_labelled_neighbours
        end as share_agreeing,
        coalesce(
            counted.n_labelled_neighbours >= {{ var('label_error_min_labelled_neighbours') }}
            and counted.n_agreeing::double precision / nullif(counted.n_labelled_neighbours, 0)
            <= {{ var('label_error_max_agreement') }},
            false
        ) as is_suspected_label_error
    from counted
    left join majority
        on
            counted.model_id = majority.model_id
            and counted.image_id = majority.image_id
)

select * from final
