with

source as (
    select * from {{ source('atlas', 'imputation_probe') }}
),

final as (
    select
        probe_id,
        model_id,
        attribute,
        task,
        estimator,
        split as split_method,
        group_source,
        seed,
        n_train,
        n_test,
        n_groups,
        n_classes,
        n_bootstrap,
        accuracy,
        accuracy_lo,
        accuracy_hi,
        balanced_accuracy,
        balanced_accuracy_lo,
        balanced_accuracy_hi,
        macro_f1,
        macro_f1_lo,
        macro_f1_hi,
        mae,
        mae_lo,
        mae_hi,
        rmse,
        rmse_lo,
        rmse_hi,
        r2,
        r2_lo,
        r2_hi,
        chance_accuracy,
        headline_metric,
        headline_value,
        plain_split_headline_value,
        plain_split_accuracy,
        quality_bar,
        is_imputable,
        is_used,
        decision,
        n_imputed,
        trained_at
    from source
)

select * from final
