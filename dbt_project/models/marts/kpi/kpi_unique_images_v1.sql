{#- Unique counting by shared source id, per dataset and for the whole
    atlas: rows with the same source id (the same ISIC id in HAM10000 and
    ISIC 2019) are one image. Per dataset, n_unique_by_source_id counts the
    dataset's distinct ids (copies inside it removed) and n_representatives
    the images it is the earliest publisher of, which add up to the atlas's
    unique count. -#}

with

images as (
    select * from {{ ref('int_images_keyed_by_identity') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

per_dataset as (
    select
        'dataset' as grain,
        dataset_id,
        count(*) as n_images,
        count(source_image_id) as n_with_source_id,
        count(distinct identity_key) as n_unique_by_source_id,
        count(*) filter (where is_identity_representative) as n_representatives
    from images
    group by dataset_id
),

whole_atlas as (
    select
        'atlas' as grain,
        null::integer as dataset_id,
        count(*) as n_images,
        count(source_image_id) as n_with_source_id,
        count(distinct identity_key) as n_unique_by_source_id,
        count(*) filter (where is_identity_representative) as n_representatives
    from images
),

counted as (
    select * from per_dataset
    union all
    select * from whole_atlas
),

final as (
    select
        counted.grain::text as grain,
        datasets.dataset_slug::text as dataset_slug,
        counted.n_images::bigint as n_images,
        counted.n_with_source_id::bigint as n_with_source_id,
        counted.n_unique_by_source_id::bigint as n_unique_by_source_id,
        (counted.n_images - counted.n_unique_by_source_id)::bigint as n_removed_by_source_id,
        (
            counted.n_unique_by_source_id::double precision / nullif(counted.n_images, 0)
        )::double precision as share_unique_by_source_id,
        counted.n_representatives::bigint as n_representatives
    from counted
    left join datasets
        on counted.dataset_id = datasets.dataset_id
)

select * from final
