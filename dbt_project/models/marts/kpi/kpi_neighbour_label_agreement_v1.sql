{#- Neighbour label agreement per model: over the atlas, per dataset and
    per ICD-10 code, the images with a known code and labelled neighbours,
    their mean share of neighbours with the same code, and the suspected
    label errors among them. -#}

with

compared as (
    select * from {{ ref('int_neighbour_labels_compared') }}
),

images as (
    select * from {{ ref('stg_atlas__images') }}
),

models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

scored as (
    select
        models.model_name,
        datasets.dataset_slug,
        compared.icd10_code,
        compared.share_agreeing,
        compared.is_suspected_label_error
    from compared
    inner join images
        on compared.image_id = images.image_id
    inner join datasets
        on images.dataset_id = datasets.dataset_id
    inner join models
        on compared.model_id = models.model_id
    where compared.share_agreeing is not null
),

grouped as (
    select
        scored.model_name,
        groupings.grouped_by,
        groupings.group_value,
        scored.share_agreeing,
        scored.is_suspected_label_error
    from scored
    cross join lateral (
        values
        ('atlas', 'all'),
        ('dataset', scored.dataset_slug),
        ('icd10_code', scored.icd10_code)
    ) as groupings (grouped_by, group_value)
),

final as (
    select
        model_name::text as model_name,
        grouped_by::text as grouped_by,
        group_value::text as group_value,
        count(*)::bigint as n_images,
        avg(share_agreeing)::double precision as mean_share_agreeing,
        count(*) filter (where is_suspected_label_error)::bigint as n_suspected_label_errors,
        (
            count(*) filter (where is_suspected_label_error)::double precision / count(*)
        )::double precision as share_suspected_label_errors
    from grouped
    group by model_name, grouped_by, group_value
)

select * from final
