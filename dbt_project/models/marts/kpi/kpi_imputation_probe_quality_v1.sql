with

probes as (
    select * from {{ ref('stg_atlas__imputation_probes') }}
),

models as (
    select * from {{ ref('stg_atlas__embedding_models') }}
),

joined as (
    select
        models.model_name,
        probes.*,
        case
            when probes.headline_metric = 'balanced_accuracy' then probes.balanced_accuracy_lo
            else probes.r2_lo
        end as headline_lo,
        case
            when probes.headline_metric = 'balanced_accuracy' then probes.balanced_accuracy_hi
            else probes.r2_hi
        end as headline_hi
    from probes
    inner join models
        on probes.model_id = models.model_id
),

final as (
    select
        model_name::text as model_name,
        attribute::text as attribute,
        task::text as probe_task,
        estimator::text as estimator,
        split_method::text as split_method,
        group_source::text as group_source,
        n_train::integer as n_train,
        n_test::integer as n_test,
        n_groups::integer as n_groups,
        n_classes::integer as n_classes,
        headline_metric::text as headline_metric,
        headline_value::double precision as headline_value,
        headline_lo::double precision as headline_lo,
        headline_hi::double precision as headline_hi,
        plain_split_headline_value::double precision as plain_split_headline_value,
        (plain_split_headline_value - headline_value)::double precision
            as inflation_through_duplicates,
        accuracy::double precision as accuracy,
        accuracy_lo::double precision as accuracy_lo,
        accuracy_hi::double precision as accuracy_hi,
        chance_accuracy::double precision as chance_accuracy,
        balanced_accuracy::double precision as balanced_accuracy,
        balanced_accuracy_lo::double precision as balanced_accuracy_lo,
        balanced_accuracy_hi::double precision as balanced_accuracy_hi,
        macro_f1::double precision as macro_f1,
        macro_f1_lo::double precision as macro_f1_lo,
        macro_f1_hi::double precision as macro_f1_hi,
        mae::double precision as mae,
        mae_lo::double precision as mae_lo,
        mae_hi::double precision as mae_hi,
        rmse::double precision as rmse,
        rmse_lo::double precision as rmse_lo,
        rmse_hi::double precision as rmse_hi,
        r2::double precision as r2,
        r2_lo::double precision as r2_lo,
        r2_hi::double precision as r2_hi,
        quality_bar::double precision as quality_bar,
        is_used::boolean as is_used,
        decision::text as decision,
        n_imputed::bigint as n_imputed,
        trained_at::timestamptz as trained_at
    from joined
)

select * from final
