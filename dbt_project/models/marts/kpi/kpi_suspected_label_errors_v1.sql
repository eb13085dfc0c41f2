{#- The images whose nearest neighbours overwhelmingly carry another ICD-10
    code (int_neighbour_labels_compared): candidates for a label review,
    not verdicts. -#}

with

compared as (
    select * from {{ ref('int_neighbour_labels_compared') }}
),

images as (
    select * from {{ ref('stg_atlas__images') }}
),

metadata as (
    select * from {{ ref('stg_atlas__image_metadata') }}
),

models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

suspected as (
    select * from compared
    where is_suspected_label_error
),

final as (
    select
        models.model_name::text as model_name,
        suspected.image_id::bigint as image_id,
        datasets.dataset_slug::text as dataset_slug,
        images.source_key::text as source_key,
        metadata.diagnosis::text as diagnosis,
        suspected.icd10_code::text as icd10_code,
        suspected.n_labelled_neighbours::integer as n_labelled_neighbours,
        suspected.n_agreeing::integer as n_agreeing,
        suspected.share_agreeing::double precision as share_agreeing,
        suspected.majority_neighbour_code::text as majority_neighbour_code,
        suspected.n_majority_neighbours::integer as n_majority_neighbours
    from suspected
    inner join images
        on suspected.image_id = images.image_id
    inner join datasets
        on images.dataset_id = datasets.dataset_id
    inner join models
        on suspected.model_id = models.model_id
    left join metadata
        on suspected.image_id = metadata.image_id
)

select * from final
