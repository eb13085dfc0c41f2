{{ config(post_hook=[
    'alter table {{ this }} add primary key '
    ~ '(model_id, cohort_kind, reference_group, release_year, image_id)',
    'create unique index on {{ this }} '
    ~ '(model_id, cohort_kind, reference_group, release_year, reference_index)',
    'analyze {{ this }}'
]) }}

{#- The reference images R of every cohort's null baseline, with their
    novelty inside R (leaving themselves out) and a 0-based index in
    image_id order that the hash sampling draws. Its two grains are the
    table's own primary key and unique index (a duplicate or NULL key fails
    the build): as tests, each grouped every row once more. -#}

with

scores as (
    select * from {{ ref('int_novelty_scored_by_cutoff') }}
),

cohorts as (
    select distinct
        model_id,
        cohort_kind,
        reference_group,
        release_year
    from {{ ref('int_novelty_cohort_queries') }}
),

dataset_references as (
    select
        cohorts.model_id,
        cohorts.cohort_kind,
        cohorts.reference_group,
        cohorts.release_year,
        scores.image_id,
        scores.novelty
    from cohorts
    inner join scores
        on
            cohorts.model_id = scores.model_id
            and cohorts.release_year = scores.cutoff_year
    where
        cohorts.cohort_kind = 'dataset'
        and scores.image_release_year < scores.cutoff_year
),

{% for attribute in ['modality', 'icd10_block', 'fitzpatrick_group'] %}
    {{ attribute }}_references as (
        select
            cohorts.model_id,
            cohorts.cohort_kind,
            cohorts.reference_group,
            cohorts.release_year,
            scores.image_id,
            scores.novelty
        from cohorts
        inner join scores
            on
                cohorts.model_id = scores.model_id
                and cohorts.release_year = scores.cutoff_year
                and cohorts.reference_group = scores.{{ attribute }}
        where
            cohorts.cohort_kind = '{{ attribute }}'
            and scores.image_release_year < scores.cutoff_year
    ),

{% endfor %}
all_references as (
    select * from dataset_references
    union all
    select * from modality_references
    union all
    select * from icd10_block_references
    union all
    select * from fitzpatrick_group_references
),

final as (
    select
        model_id,
        cohort_kind,
        reference_group,
        release_year,
        image_id,
        novelty,
        row_number() over (
            partition by model_id, cohort_kind, reference_group, release_year
            order by image_id asc
        ) - 1 as reference_index
    from all_references
)

select * from final
