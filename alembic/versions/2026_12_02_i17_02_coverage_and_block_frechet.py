"""atlas.dataset_coverage and atlas.dataset_frechet_by_block: what the kNN step adds for issue 17.

Both are numpy results that the stored neighbours cannot give (see
skinmap/knn/coverage.py and skinmap/knn/frechet.py): precision, recall,
density and coverage (Naeem et al. 2020) of each dataset against the rest
of the atlas, and the Fréchet distance of two datasets' Gaussian fits inside
one ICD-10 block. One revision for the two tables because one step of
`skinmap knn` writes both and the dbt marts that read them ship together.

Revision ID: i17_02
Revises: i17_01
Create Date: 2026-12-02
"""
from alembic import op

revision = "i17_02"
down_revision = "i17_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.dataset_coverage (
            model_id integer not null
                constraint fk_dataset_coverage_model references atlas.embedding_model (model_id)
                on delete cascade,
            dataset_id integer not null
                constraint fk_dataset_coverage_dataset references atlas.dataset (dataset_id) on delete cascade,
            k integer not null constraint ck_dataset_coverage_k check (k > 0),
            n_dataset integer not null constraint ck_dataset_coverage_n_dataset check (n_dataset > 0),
            n_rest integer not null constraint ck_dataset_coverage_n_rest check (n_rest > k),
            n_dataset_sampled integer not null,
            n_rest_sampled integer not null,
            precision double precision not null
                constraint ck_dataset_coverage_precision check (precision between 0 and 1),
            recall double precision not null
                constraint ck_dataset_coverage_recall check (recall between 0 and 1),
            density double precision not null constraint ck_dataset_coverage_density check (density >= 0),
            coverage double precision not null
                constraint ck_dataset_coverage_coverage check (coverage between 0 and 1),
            seed integer not null,
            computed_at timestamptz not null default now(),
            constraint pk_dataset_coverage primary key (model_id, dataset_id)
        )
        """
    )
    op.execute(
        """
        create table atlas.dataset_frechet_by_block (
            model_id integer not null
                constraint fk_dataset_frechet_by_block_model references atlas.embedding_model (model_id)
                on delete cascade,
            icd10_block text not null,
            dataset_id_a integer not null
                constraint fk_dataset_frechet_by_block_a references atlas.dataset (dataset_id) on delete cascade,
            dataset_id_b integer not null
                constraint fk_dataset_frechet_by_block_b references atlas.dataset (dataset_id) on delete cascade,
            n_images_a integer not null,
            n_images_b integer not null,
            frechet_distance double precision not null
                constraint ck_dataset_frechet_by_block_distance check (frechet_distance >= 0),
            computed_at timestamptz not null default now(),
            constraint pk_dataset_frechet_by_block primary key (model_id, icd10_block, dataset_id_a, dataset_id_b)
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table atlas.dataset_frechet_by_block")
    op.execute("drop table atlas.dataset_coverage")
