{{ config(post_hook='analyze {{ this }}') }}

{#- The query sets Q of the novelty cohorts beyond release years:
    dataset: the dataset's images, against every image released before the
    dataset's release year (reference_group 'all');
    modality, icd10_block, fitzpatrick_group: the images of one value
    released in year y, against all images of earlier years; their null
    baseline draws from the earlier images of the same value
    (reference_group = the value), so like is compared with like. -#}

with

scores as (
    select * from {{ ref('int_novelty_scored_by_cutoff') }}
),

years as (
    select * from {{ ref('int_novelty_years_counted') }}
),

images as (
    select * from {{ ref('stg_atlas__images') }}
),

datasets as (
    select * from {{ ref('stg_atlas__datasets') }}
),

dataset_queries as (
    select
        scores.model_id,
        scores.model_name,
        'dataset' as cohort_kind,
        datasets.dataset_slug as group_value,
        scores.cutoff_year as release_year,
        'all' as reference_group,
        scores.image_id,
        scores.novelty
    from scores
    inner join images
        on scores.image_id = images.image_id
    inner join datasets
        on
            images.dataset_id = datasets.dataset_id
            and scores.cutoff_year = datasets.dataset_release_year
),

{% for attribute in ['modality', 'icd10_block', 'fitzpatrick_group'] %}
    {{ attribute }}_queries as (
        select
            scores.model_id,
            scores.model_name,
            '{{ attribute }}' as cohort_kind,
            scores.{{ attribute }} as group_value,
            scores.cutoff_year as release_year,
            scores.{{ attribute }} as reference_group,
            scores.image_id,
            scores.novelty
        from scores
        inner join years
            on
                scores.model_id = years.model_id
                and scores.cutoff_year = years.release_year
        where scores.image_release_year = scores.cutoff_year
    ),

{% endfor %}
final as (
    select * from dataset_queries
    union all
    select * from modality_queries
    union all
    select * from icd10_block_queries
    union all
    select * from fitzpatrick_group_queries
)

select * from final
