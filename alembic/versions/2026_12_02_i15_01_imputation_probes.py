"""atlas.imputation_probe and atlas.imputed_value: linear probes on the embeddings and what they impute.

`skinmap impute --model NAME` (skinmap/impute.py) trains one probe per
attribute on the model's vectors of labelled images, with a split that keeps
each patient, lesion and duplicate cluster on one side, and stores here its
held-out metrics with bootstrap intervals, the same headline metric on the
authors' plain stratified split (the inflation through duplicates), and
whether it cleared the quality bar. Every value a probe predicts for an
unlabelled image is kept in atlas.imputed_value (one row per image,
attribute and model); the last run's used probes also fill the NULL fields
of atlas.image_metadata with provenance 'imputed', never a labelled field.

Revision ID: i15_01
Revises: i14_03
Create Date: 2026-12-02
"""
from alembic import op

revision = "i15_01"
down_revision = "i14_03"
branch_labels = None
depends_on = None

ATTRIBUTES = ("'fitzpatrick_type', 'fitzpatrick_group', 'age_years', 'age_bin', 'sex', 'body_region', "
              "'laterality', 'country_code', 'continent', 'diagnosis'")


def upgrade() -> None:
    op.execute(
        f"""
        create table atlas.imputation_probe (
            probe_id integer generated always as identity
                constraint pk_imputation_probe primary key,
            model_id integer not null
                constraint fk_imputation_probe_model references atlas.embedding_model (model_id) on delete cascade,
            attribute text not null
                constraint ck_imputation_probe_attribute check (attribute in ({ATTRIBUTES})),
            task text not null
                constraint ck_imputation_probe_task check (task in ('classification', 'regression')),
            estimator text not null,
            split text not null,
            group_source text not null,
            seed integer not null,
            n_train integer not null constraint ck_imputation_probe_n_train check (n_train > 0),
            n_test integer not null constraint ck_imputation_probe_n_test check (n_test > 0),
            n_groups integer not null constraint ck_imputation_probe_n_groups check (n_groups > 0),
            n_classes integer,
            n_bootstrap integer not null,
            accuracy double precision, accuracy_lo double precision, accuracy_hi double precision,
            balanced_accuracy double precision, balanced_accuracy_lo double precision,
            balanced_accuracy_hi double precision,
            macro_f1 double precision, macro_f1_lo double precision, macro_f1_hi double precision,
            mae double precision, mae_lo double precision, mae_hi double precision,
            rmse double precision, rmse_lo double precision, rmse_hi double precision,
            r2 double precision, r2_lo double precision, r2_hi double precision,
            chance_accuracy double precision,
            headline_metric text not null
                constraint ck_imputation_probe_headline check (headline_metric in ('balanced_accuracy', 'r2')),
            headline_value double precision not null,
            plain_split_headline_value double precision,
            plain_split_accuracy double precision,
            quality_bar double precision not null,
            is_imputable boolean not null,
            is_used boolean not null,
            decision text not null,
            n_imputed integer not null default 0 constraint ck_imputation_probe_n_imputed check (n_imputed >= 0),
            trained_at timestamptz not null default now(),
            constraint uq_imputation_probe_model_attribute unique (model_id, attribute),
            constraint ck_imputation_probe_task_metrics check (
                (task = 'classification') = (headline_metric = 'balanced_accuracy')
                and (task = 'classification') = (balanced_accuracy is not null)
                and (task = 'regression') = (r2 is not null)
            ),
            constraint ck_imputation_probe_used check (not is_used or is_imputable)
        )
        """
    )
    op.execute(
        f"""
        create table atlas.imputed_value (
            image_id bigint not null
                constraint fk_imputed_value_image references atlas.image (image_id) on delete cascade,
            attribute text not null
                constraint ck_imputed_value_attribute check (attribute in ({ATTRIBUTES})),
            model_id integer not null
                constraint fk_imputed_value_model references atlas.embedding_model (model_id) on delete cascade,
            probe_id integer not null
                constraint fk_imputed_value_probe references atlas.imputation_probe (probe_id) on delete cascade,
            value text not null,
            confidence double precision
                constraint ck_imputed_value_confidence check (confidence between 0 and 1),
            is_written boolean not null,
            imputed_at timestamptz not null default now(),
            constraint pk_imputed_value primary key (image_id, attribute, model_id)
        )
        """
    )
    op.execute("create index ix_imputed_value_probe on atlas.imputed_value (probe_id)")
    op.execute("create index ix_imputed_value_model on atlas.imputed_value (model_id)")


def downgrade() -> None:
    op.execute(
        """
        update atlas.image_metadata set fitzpatrick_type = null, fitzpatrick_group = null,
            fitzpatrick_provenance = null where fitzpatrick_provenance = 'imputed'
        """
    )
    op.execute("update atlas.image_metadata set age_years = null, age_bin = null, age_provenance = null "
               "where age_provenance = 'imputed'")
    op.execute("update atlas.image_metadata set sex = null, sex_provenance = null where sex_provenance = 'imputed'")
    op.execute("update atlas.image_metadata set body_region = null, laterality = null, body_site_provenance = null "
               "where body_site_provenance = 'imputed'")
    op.execute("update atlas.image_metadata set country_code = null, continent = null, country_provenance = null "
               "where country_provenance = 'imputed'")
    op.execute("drop table atlas.imputed_value")
    op.execute("drop table atlas.imputation_probe")
