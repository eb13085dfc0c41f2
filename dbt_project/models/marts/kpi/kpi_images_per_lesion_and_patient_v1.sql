{#- Images per lesion and per patient, per dataset and for the whole atlas.
    An image is counted once per shared source id (identity_key), so on the
    atlas row HAM10000's images inside ISIC 2019 count once; lesions and
    patients are their namespaced keys (int_images_keyed_by_identity). -#}

with

images as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

scoped_images as (
    select
        'dataset' as grain,
        dataset_id as scope_dataset_id,
        identity_key,
        lesion_key,
        patient_key
    from images
    union all
    select
        'atlas' as grain,
        0 as scope_dataset_id,
        identity_key,
        lesion_key,
        patient_key
    from images
),

totals as (
    select
        grain,
        scope_dataset_id,
        count(distinct identity_key) as n_images,
        count(distinct identity_key) filter (where lesion_key is not null) as n_with_lesion_id,
        count(distinct lesion_key) as n_lesions,
        count(distinct identity_key) filter (where patient_key is not null) as n_with_patient_id,
        count(distinct patient_key) as n_patients
    from scoped_images
    group by grain, scope_dataset_id
),

lesion_sizes as (
    select
        grain,
        scope_dataset_id,
        lesion_key,
        count(distinct identity_key) as n_images
    from scoped_images
    where lesion_key is not null
    group by grain, scope_dataset_id, lesion_key
),

patient_sizes as (
    select
        grain,
        scope_dataset_id,
        patient_key,
        count(distinct identity_key) as n_images
    from scoped_images
    where patient_key is not null
    group by grain, scope_dataset_id, patient_key
),

per_lesion as (
    select
        grain,
        scope_dataset_id,
        avg(n_images) as mean_images_per_lesion,
        max(n_images) as max_images_per_lesion
    from lesion_sizes
    group by grain, scope_dataset_id
),

per_patient as (
    select
        grain,
        scope_dataset_id,
        avg(n_images) as mean_images_per_patient,
        max(n_images) as max_images_per_patient
    from patient_sizes
    group by grain, scope_dataset_id
),

final as (
    select
        totals.grain::text as grain,
        datasets.dataset_slug::text as dataset_slug,
        totals.n_images::bigint as n_images,
        totals.n_with_lesion_id::bigint as n_with_lesion_id,
        totals.n_lesions::bigint as n_lesions,
        per_lesion.mean_images_per_lesion::double precision as mean_images_per_lesion,
        per_lesion.max_images_per_lesion::bigint as max_images_per_lesion,
        totals.n_with_patient_id::bigint as n_with_patient_id,
        totals.n_patients::bigint as n_patients,
        per_patient.mean_images_per_patient::double precision as mean_images_per_patient,
        per_patient.max_images_per_patient::bigint as max_images_per_patient
    from totals
    left join per_lesion
        on
            totals.grain = per_lesion.grain
            and totals.scope_dataset_id = per_lesion.scope_dataset_id
    left join per_patient
        on
            totals.grain = per_patient.grain
            and totals.scope_dataset_id = per_patient.scope_dataset_id
    left join datasets
        on
            totals.grain = 'dataset'
            and totals.scope_dataset_id = datasets.dataset_id
)

select * from final
