with

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

flagged as (
    select * from {{ ref('int_images_quality_flagged') }}
),

issue_names as (
    -- 'any' and 'degenerate' summarise the issues after them (macros/quality_issues.sql)
    select
        issue_list.issue,
        issue_list.issue_position - 1 as issue_order,
        issue_list.issue in ('any', 'degenerate') as is_summary,
        issue_list.issue in (
            'degenerate', {{ quality_issue_list(degenerate_only=true) }}
        ) as is_degenerate_issue
    from
        unnest(array['any', 'degenerate', {{ quality_issue_list() }}])
        with ordinality as issue_list (issue, issue_position)
),

image_issues as (
    select
        flagged.dataset_id,
        issue_list.issue
    from flagged
    cross join lateral unnest(flagged.issues) as issue_list (issue)
    union all
    select
        dataset_id,
        'any' as issue
    from flagged
    where is_flagged
    union all
    select
        dataset_id,
        'degenerate' as issue
    from flagged
    where is_degenerate
),

issue_counts as (
    select
        dataset_id,
        issue,
        count(*) as n_flagged
    from image_issues
    group by dataset_id, issue
),

dataset_counts as (
    select
        dataset_id,
        count(*) as n_images,
        count(*) filter (where is_screened) as n_screened
    from flagged
    group by dataset_id
),

grid as (
    select
        datasets.dataset_id,
        datasets.dataset_slug,
        issue_names.issue,
        issue_names.issue_order,
        issue_names.is_summary,
        issue_names.is_degenerate_issue,
        coalesce(dataset_counts.n_images, 0) as n_images,
        coalesce(dataset_counts.n_screened, 0) as n_screened
    from datasets
    cross join issue_names
    left join dataset_counts
        on datasets.dataset_id = dataset_counts.dataset_id
),

final as (
    select
        grid.dataset_slug::text as dataset_slug,
        grid.issue::text as issue,
        grid.issue_order::integer as issue_order,
        grid.is_summary::boolean as is_summary,
        grid.is_degenerate_issue::boolean as is_degenerate_issue,
        grid.n_images::bigint as n_images,
        grid.n_screened::bigint as n_screened,
        (grid.n_images - grid.n_screened)::bigint as n_not_screened,
        coalesce(issue_counts.n_flagged, 0)::bigint as n_flagged,
        case
            when grid.n_screened > 0
                then coalesce(issue_counts.n_flagged, 0)::double precision / grid.n_screened
        end as share_flagged
    from grid
    left join issue_counts
        on
            grid.dataset_id = issue_counts.dataset_id
            and grid.issue = issue_counts.issue
)

select * from final
