with

images as (
    select * from {{ ref('stg_atlas__images') }}
),

sized_images as (
    select
        *,
        least(width, height) as short_side,
        least(width, height)::double precision / greatest(width, height) as aspect_ratio
    from images
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

image_quality as (
    select * from {{ ref('stg_atlas__image_quality') }}
),

flagged as (
    select * from {{ ref('int_images_quality_flagged') }}
    where is_flagged
),

image_issues as (
    select
        flagged.image_id,
        flagged.dataset_id,
        flagged.is_degenerate,
        cardinality(flagged.issues) as n_issues,
        issue_list.issue,
        -- the same order as kpi_image_quality_v1.issue_order ('any' 0, 'degenerate' 1)
        array_position(array[{{ quality_issue_list() }}], issue_list.issue) + 1 as issue_order
    from flagged
    cross join lateral unnest(flagged.issues) as issue_list (issue)
),

measured as (
    select
        image_issues.*,
        images.source_key,
        images.file_path,
        images.width,
        images.height,
        datasets.dataset_slug,
        case image_issues.issue
            when 'near_constant' then 'thumb_std'
            when 'stripes' then 'least(column_std, row_std)'
            when 'low_information' then 'entropy'
            when 'dark' then 'brightness_p99'
            when 'light' then 'brightness_p05'
            when 'blurry' then 'sharpness'
            when 'tiny' then 'least(width, height)'
            when 'odd_aspect_ratio' then 'least(width, height) / greatest(width, height)'
            when 'grayscale' then 'chroma'
        end as metric,
        case image_issues.issue
            when 'near_constant' then image_quality.thumb_std
            when 'stripes' then least(image_quality.column_std, image_quality.row_std)
            when 'low_information' then image_quality.entropy
            when 'dark' then image_quality.brightness_p99
            when 'light' then image_quality.brightness_p05
            when 'blurry' then image_quality.sharpness
            when 'tiny' then images.short_side
            when 'odd_aspect_ratio' then images.aspect_ratio
            when 'grayscale' then image_quality.chroma
        end as metric_value,
        case image_issues.issue
            when 'near_constant' then {{ var('quality_near_constant_max_thumb_std') }}
            when 'stripes' then {{ var('quality_stripes_max_line_std') }}
            when 'low_information' then {{ var('quality_low_information_max_entropy') }}
            when 'dark' then {{ var('quality_dark_max_brightness_p99') }}
            when 'light' then {{ var('quality_light_min_brightness_p05') }}
            when 'blurry' then {{ var('quality_blurry_max_sharpness') }}
            when 'tiny' then {{ var('quality_tiny_min_side') }}
            when 'odd_aspect_ratio' then {{ var('quality_odd_aspect_max_ratio') }}
            when 'grayscale' then {{ var('quality_grayscale_max_chroma') }}
        end as threshold
    from image_issues
    inner join sized_images as images
        on image_issues.image_id = images.image_id
    inner join datasets
        on image_issues.dataset_id = datasets.dataset_id
    inner join image_quality
        on image_issues.image_id = image_quality.image_id
),

final as (
    select
        image_id::bigint as image_id,
        dataset_slug::text as dataset_slug,
        source_key::text as source_key,
        file_path::text as file_path,
        width::integer as width,
        height::integer as height,
        issue::text as issue,
        issue_order::integer as issue_order,
        n_issues::integer as n_issues,
        is_degenerate::boolean as is_degenerate,
        metric::text as metric,
        metric_value::double precision as metric_value,
        threshold::double precision as threshold
    from measured
)

select * from final
