with

pixel_hash_groups as (
    select * from {{ ref('int_images_grouped_by_pixel_hash') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

duplicate_groups as (
    select * from pixel_hash_groups
    where n_images > 1
),

group_dataset_slugs as (
    select
        duplicate_groups.pixel_sha256,
        array_agg(datasets.dataset_slug order by datasets.dataset_slug) as dataset_slugs
    from duplicate_groups
    cross join lateral unnest(duplicate_groups.dataset_ids) as group_datasets (dataset_id)
    inner join datasets
        on group_datasets.dataset_id = datasets.dataset_id
    group by duplicate_groups.pixel_sha256
),

final as (
    select
        duplicate_groups.pixel_sha256::text as pixel_sha256,
        duplicate_groups.n_images::bigint as n_images,
        duplicate_groups.n_datasets::bigint as n_datasets,
        duplicate_groups.n_datasets > 1 as is_cross_dataset,
        duplicate_groups.image_ids::bigint[] as image_ids,
        group_dataset_slugs.dataset_slugs::text[] as dataset_slugs
    from duplicate_groups
    inner join group_dataset_slugs
        on duplicate_groups.pixel_sha256 = group_dataset_slugs.pixel_sha256
)

select * from final
