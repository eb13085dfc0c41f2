"""Atlas core: datasets, ingest runs, images, harmonised metadata, ingest issues.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MODALITIES = "'clinical', 'dermoscopic', 'total-body tile', 'mixed', 'unknown'"
PROVENANCE = "'label', 'imputed'"


def upgrade() -> None:
    op.execute("create schema if not exists atlas")
    op.execute(
        f"""
        create table atlas.dataset (
            dataset_id integer generated always as identity
                constraint pk_dataset primary key,
            slug text not null constraint uq_dataset_slug unique,
            name text not null,
            release_year smallint,
            modality text not null default 'unknown'
                constraint ck_dataset_modality check (modality in ({MODALITIES})),
            licence text,
            source_url text,
            origin_country text,
            created_at timestamptz not null default now(),
            constraint ck_dataset_slug check (slug ~ '^[a-z0-9][a-z0-9_-]*$')
        )
        """
    )
    op.execute(
        """
        create table atlas.ingest_run (
            ingest_run_id bigint generated always as identity
                constraint pk_ingest_run primary key,
            dataset_id integer not null
                constraint fk_ingest_run_dataset references atlas.dataset (dataset_id),
            metadata_path text not null,
            images_dir text,
            mapping jsonb not null,
            n_rows_read integer not null default 0,
            n_loaded integer not null default 0,
            n_already_present integer not null default 0,
            n_quarantined integer not null default 0,
            n_issues integer not null default 0,
            started_at timestamptz not null default now(),
            finished_at timestamptz
        )
        """
    )
    op.execute(
        f"""
        create table atlas.image (
            image_id bigint generated always as identity
                constraint pk_image primary key,
            dataset_id integer not null
                constraint fk_image_dataset references atlas.dataset (dataset_id),
            source_key text not null,
            file_path text,
            byte_sha256 text,
            pixel_sha256 text,
            width integer,
            height integer,
            modality text not null default 'unknown'
                constraint ck_image_modality check (modality in ({MODALITIES})),
            release_year smallint,
            patient_id text,
            lesion_id text,
            status text not null default 'ok'
                constraint ck_image_status check (status in ('ok', 'quarantined')),
            quarantine_reason text,
            ingest_run_id bigint
                constraint fk_image_ingest_run references atlas.ingest_run (ingest_run_id),
            ingested_at timestamptz not null default now(),
            constraint uq_image_dataset_key unique (dataset_id, source_key),
            constraint ck_image_quarantine_reason check (
                (status = 'ok') = (quarantine_reason is null)
            )
        )
        """
    )
    op.execute("create index ix_image_pixel_sha256 on atlas.image (pixel_sha256)")
    op.execute("create index ix_image_release_year on atlas.image (release_year)")
    op.execute(
        f"""
        create table atlas.image_metadata (
            image_id bigint not null
                constraint pk_image_metadata primary key
                constraint fk_image_metadata_image
                    references atlas.image (image_id) on delete cascade,
            fitzpatrick_raw text,
            fitzpatrick_type smallint
                constraint ck_meta_fitzpatrick_type check (fitzpatrick_type between 1 and 6),
            fitzpatrick_group text
                constraint ck_meta_fitzpatrick_group
                    check (fitzpatrick_group in ('I-II', 'III-IV', 'V-VI')),
            fitzpatrick_provenance text
                constraint ck_meta_fitzpatrick_provenance check (fitzpatrick_provenance in ({PROVENANCE})),
            age_raw text,
            age_years numeric(5, 1)
                constraint ck_meta_age_years check (age_years between 0 and 120),
            age_bin text
                constraint ck_meta_age_bin
                    check (age_bin in ('0-17', '18-29', '30-49', '50-69', '70+')),
            age_provenance text
                constraint ck_meta_age_provenance check (age_provenance in ({PROVENANCE})),
            sex_raw text,
            sex text constraint ck_meta_sex check (sex in ('female', 'male')),
            sex_provenance text
                constraint ck_meta_sex_provenance check (sex_provenance in ({PROVENANCE})),
            country_raw text,
            country_code text constraint ck_meta_country_code check (country_code ~ '^[A-Z]{{2}}$'),
            continent text,
            country_provenance text
                constraint ck_meta_country_provenance check (country_provenance in ({PROVENANCE})),
            body_site_raw text,
            body_region text,
            laterality text
                constraint ck_meta_laterality check (laterality in ('left', 'right', 'bilateral')),
            body_site_provenance text
                constraint ck_meta_body_site_provenance check (body_site_provenance in ({PROVENANCE})),
            diagnosis_raw text,
            diagnosis text,
            icd10_code text,
            icd10_category text,
            icd10_block text,
            icd10_chapter text,
            is_malignant boolean,
            diagnosis_provenance text
                constraint ck_meta_diagnosis_provenance check (diagnosis_provenance in ({PROVENANCE}))
        )
        """
    )
    op.execute(
        """
        create table atlas.ingest_issue (
            ingest_issue_id bigint generated always as identity
                constraint pk_ingest_issue primary key,
            ingest_run_id bigint not null
                constraint fk_ingest_issue_run references atlas.ingest_run (ingest_run_id),
            dataset_id integer not null
                constraint fk_ingest_issue_dataset references atlas.dataset (dataset_id),
            row_number integer,
            source_key text,
            column_name text,
            raw_value text,
            reason text not null,
            is_row_quarantined boolean not null default false
        )
        """
    )
    op.execute(
        """
        create unique index uq_ingest_issue_identity on atlas.ingest_issue (
            dataset_id, coalesce(source_key, ''), coalesce(column_name, ''), reason
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table atlas.ingest_issue")
    op.execute("drop table atlas.image_metadata")
    op.execute("drop table atlas.image")
    op.execute("drop table atlas.ingest_run")
    op.execute("drop table atlas.dataset")
    op.execute("drop schema atlas")
