"""atlas.void_run, atlas.structural_void, atlas.void_boundary_image: H1 voids of a model's landmarks.

`skinmap voids --model NAME` (skinmap/voids/) draws seeded landmarks, builds
their kNN graph (k = 30) from atlas.knn_edge where it covers them and from
the vectors otherwise, computes effective-resistance distances (von Luxburg
correction optional) and runs ripser H1. One run per model is kept: a rerun
replaces the model's rows (on delete cascade). void_run holds the settings
and the null (the largest H1 persistence of each Gaussian draw);
structural_void one row per H1 interval kept, with its p-value against that
null; void_boundary_image the images on each void's boundary cycle, in
order. No grants: skinmap_reader reads the kpi views dbt builds on these.

Revision ID: i17_01
Revises: i15_01
Create Date: 2026-12-02
"""
from alembic import op

revision = "i17_01"
down_revision = "i15_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.void_run (
            run_id integer generated always as identity constraint pk_void_run primary key,
            model_id integer not null
                constraint fk_void_run_model references atlas.embedding_model (model_id) on delete cascade,
            n_images integer not null constraint ck_void_run_n_images check (n_images >= 3),
            n_landmarks integer not null
                constraint ck_void_run_n_landmarks check (n_landmarks >= 3 and n_landmarks <= n_images),
            n_landmarks_from_stored_edges integer not null,
            k integer not null constraint ck_void_run_k check (k >= 1 and k < n_landmarks),
            metric text not null constraint ck_void_run_metric check (metric in ('cosine', 'euclidean')),
            is_corrected boolean not null,
            seed integer not null,
            n_null_draws integer not null constraint ck_void_run_n_null check (n_null_draws >= 1),
            null_max_persistence double precision[] not null,
            alpha double precision not null constraint ck_void_run_alpha check (alpha > 0 and alpha < 1),
            max_voids integer,
            seconds double precision not null,
            computed_at timestamptz not null default now(),
            constraint uq_void_run_model unique (model_id),
            constraint ck_void_run_stored check (n_landmarks_from_stored_edges between 0 and n_landmarks),
            constraint ck_void_run_null_draws check (cardinality(null_max_persistence) = n_null_draws)
        )
        """
    )
    op.execute(
        """
        create table atlas.structural_void (
            run_id integer not null
                constraint fk_structural_void_run references atlas.void_run (run_id) on delete cascade,
            void_rank integer not null constraint ck_structural_void_rank check (void_rank >= 1),
            birth double precision not null constraint ck_structural_void_birth check (birth >= 0),
            death double precision not null,
            persistence double precision not null,
            p_value double precision not null
                constraint ck_structural_void_p_value check (p_value > 0 and p_value <= 1),
            n_cocycle_edges integer not null,
            n_boundary_landmarks integer not null
                constraint ck_structural_void_boundary check (n_boundary_landmarks >= 2),
            constraint pk_structural_void primary key (run_id, void_rank),
            constraint ck_structural_void_persistence check (persistence > 0 and death > birth)
        )
        """
    )
    op.execute(
        """
        create table atlas.void_boundary_image (
            run_id integer not null,
            void_rank integer not null,
            position integer not null constraint ck_void_boundary_image_position check (position >= 1),
            image_id bigint not null
                constraint fk_void_boundary_image_image references atlas.image (image_id) on delete cascade,
            constraint pk_void_boundary_image primary key (run_id, void_rank, position),
            constraint fk_void_boundary_image_void foreign key (run_id, void_rank)
                references atlas.structural_void (run_id, void_rank) on delete cascade
        )
        """
    )
    op.execute("create index ix_void_boundary_image_image on atlas.void_boundary_image (image_id)")


def downgrade() -> None:
    op.execute("drop table atlas.void_boundary_image")
    op.execute("drop table atlas.structural_void")
    op.execute("drop table atlas.void_run")
