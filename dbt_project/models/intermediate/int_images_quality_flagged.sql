{#- One row per usable image: which quality issues it has, from the raw
    metrics and the quality_* thresholds (dbt_project.yml). Kept in step with
    skinmap.quality.issues(), which tests compare it with. -#}

with

images as (
    select * from {{ ref('stg_atlas__images') }}
),

image_quality as (
    select * from {{ ref('stg_atlas__image_quality') }}
),

screened as (
    select
        images.image_id,
        images.dataset_id,
        images.width,
        images.height,
        image_quality.brightness_p99,
        image_quality.brightness_p05,
        image_quality.entropy,
        image_quality.sharpness,
        image_quality.thumb_std,
        image_quality.column_std,
        image_quality.row_std,
        image_quality.chroma,
        image_quality.image_id is not null as is_screened
    from images
    left join image_quality
        on images.image_id = image_quality.image_id
),

dataset_colour as (
    -- a dataset is colour when most of its screened images are colour
    select
        dataset_id,
        avg(
            case
                when chroma >= {{ var('quality_grayscale_max_chroma') }} then 1.0
                else 0.0
            end
        ) > 0.5 as is_colour_dataset
    from screened
    where is_screened
    group by dataset_id
),

near_constant_checked as (
    select
        screened.*,
        coalesce(dataset_colour.is_colour_dataset, false) as is_colour_dataset,
        coalesce(
            screened.thumb_std < {{ var('quality_near_constant_max_thumb_std') }},
            false
        ) as is_near_constant
    from screened
    left join dataset_colour
        on screened.dataset_id = dataset_colour.dataset_id
),

stripes_checked as (
    select
        *,
        coalesce(
            not is_near_constant
            and least(column_std, row_std) < {{ var('quality_stripes_max_line_std') }},
            false
        ) as is_stripes
    from near_constant_checked
),

checked as (
    select
        *,
        coalesce(
            entropy < {{ var('quality_low_information_max_entropy') }}, false
        ) as is_low_information,
        coalesce(
            brightness_p99 < {{ var('quality_dark_max_brightness_p99') }}, false
        ) as is_dark,
        coalesce(
            brightness_p05 > {{ var('quality_light_min_brightness_p05') }}, false
        ) as is_light,
        coalesce(
            not (is_near_constant or is_stripes)
            and sharpness < {{ var('quality_blurry_max_sharpness') }},
            false
        ) as is_blurry,
        coalesce(
            is_screened
            and least(width, height) < {{ var('quality_tiny_min_side') }},
            false
        ) as is_tiny,
        coalesce(
            is_screened
            and least(width, height)::double precision / greatest(width, height)
            < {{ var('quality_odd_aspect_max_ratio') }},
            false
        ) as is_odd_aspect_ratio,
        coalesce(
            is_colour_dataset
            and chroma < {{ var('quality_grayscale_max_chroma') }},
            false
        ) as is_grayscale
    from stripes_checked
),

listed as (
    select
        *,
        array_remove(
            array[
                {%- for issue, _ in quality_issues() %}
                    case when is_{{ issue }} then '{{ issue }}' end
                    {{- ',' if not loop.last }}
                {%- endfor %}
            ],
            null
        )::text[] as issues
    from checked
),

final as (
    select
        image_id,
        dataset_id,
        is_screened,
        cardinality(issues) > 0 as is_flagged,
        (is_near_constant or is_stripes or is_low_information) as is_degenerate,
        issues,
        case
            when not is_screened then 'not screened'
            when cardinality(issues) > 0 then 'flagged'
            else 'ok'
        end as quality_status,
        is_colour_dataset,
        is_near_constant,
        is_stripes,
        is_low_information,
        is_dark,
        is_light,
        is_blurry,
        is_tiny,
        is_odd_aspect_ratio,
        is_grayscale
    from listed
)

select * from final
