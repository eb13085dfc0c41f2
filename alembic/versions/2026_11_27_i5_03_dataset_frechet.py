"""Domain shift: Fréchet distance between the Gaussian fits of two datasets' embeddings.

The matrix square root that FID needs has no SQL form, so the kNN step
computes it (numpy) and stores one row per ordered dataset pair and model;
the dbt mart kpi_dataset_frechet_distances_v1 reads it.

Revision ID: i5_03
Revises: i5_02
Create Date: 2026-11-27
"""
from alembic import op

revision = "i5_03"
down_revision = "i5_02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.dataset_frechet (
            model_id integer not null
                constraint fk_dataset_frechet_model references atlas.embedding_model (model_id),
            dataset_id_a integer not null
                constraint fk_dataset_frechet_a references atlas.dataset (dataset_id) on delete cascade,
            dataset_id_b integer not null
                constraint fk_dataset_frechet_b references atlas.dataset (dataset_id) on delete cascade,
            n_images_a integer not null,
            n_images_b integer not null,
            frechet_distance double precision not null,
            computed_at timestamptz not null default now(),
            constraint pk_dataset_frechet primary key (model_id, dataset_id_a, dataset_id_b)
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table atlas.dataset_frechet")
