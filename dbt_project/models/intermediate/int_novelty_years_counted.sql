{{ config(materialized='view') }}

{#- Per model and release year: |Q| (images of the year) and |R| (images of
    earlier years). Images without a release year take no part. -#}

with

embeddings as (
    select * from {{ ref('int_embeddings_joined_to_images') }}
),

dated_embeddings as (
    select * from embeddings
    where release_year is not null
),

years as (
    select
        model_id,
        model_name,
        release_year,
        count(*) as n_query
    from dated_embeddings
    group by model_id, model_name, release_year
),

with_reference as (
    select
        model_id,
        model_name,
        release_year,
        n_query,
        coalesce(sum(n_query) over (
            partition by model_id
            order by release_year asc
            rows between unbounded preceding and 1 preceding
        ), 0)::bigint as n_reference
    from years
),

final as (
    select * from with_reference
)

select * from final
