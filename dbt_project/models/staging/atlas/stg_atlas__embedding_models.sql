with

source as (
    select * from {{ source('atlas', 'embedding_model') }}
),

final as (
    select
        model_id,
        model_name,
        family as model_family,
        architecture,
        weights,
        weights_sha256,
        revision,
        weight_files,
        is_random_weights,
        dimension
    from source
)

select * from final
