"""The ivf engine's cells are kept between runs: centroids, and each image's cells.

The ivf engine trained its k-means centroids and scored every image against
them on every run: at 1.1M x 512 on 2 cores about 18 s, most of the fixed
cost of adding a 10k dataset. A full run still trains them afresh and
stores them here; an update reuses them, and only the new images are
placed. atlas.knn_ivf_layout says how the cells were made (an update with
other settings, or after the model has grown by half, trains them again;
new images that fit no cell, a novel dataset, get cells of their own);
atlas.knn_ivf_cell holds each image's own cell first, then the cells almost
as near (see skinmap.knn.ivf_engine), the search structure only: the
neighbours themselves stay in knn_edge and knn_novelty. Like those, it has
no per-row foreign keys (written 1.1M rows at a time; see i5_09): the
engine writes only embedded images, and replaces a model's cells with its
layout.

Revision ID: i5_08
Revises: i5_07
Create Date: 2026-11-28
"""
from alembic import op

revision = "i5_08"
down_revision = "i5_07"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.knn_ivf_layout (
            model_id integer not null
                constraint pk_knn_ivf_layout primary key
                constraint fk_knn_ivf_layout_model references atlas.embedding_model (model_id) on delete cascade,
            cells integer not null constraint ck_knn_ivf_layout_cells check (cells > 0),
            probes integer not null constraint ck_knn_ivf_layout_probes check (probes > 0),
            slack real not null,
            iterations integer not null,
            seed bigint not null,
            trained_on integer not null,
            fit_floor real not null,
            trained_at timestamptz not null default now()
        )
        """
    )
    op.execute(
        """
        create table atlas.knn_ivf_centroid (
            model_id integer not null
                constraint fk_knn_ivf_centroid_layout references atlas.knn_ivf_layout (model_id) on delete cascade,
            cell integer not null,
            centroid vector not null,
            constraint pk_knn_ivf_centroid primary key (model_id, cell)
        )
        """
    )
    op.execute(
        """
        create table atlas.knn_ivf_cell (
            model_id integer not null,
            image_id bigint not null,
            cells integer[] not null constraint ck_knn_ivf_cell_cells check (cardinality(cells) > 0),
            constraint pk_knn_ivf_cell primary key (model_id, image_id)
        )
        """
    )
    op.execute("comment on table atlas.knn_ivf_layout is "
               "'How the ivf engine''s cells of a model were trained (skinmap.knn.ivf_engine).'")
    op.execute("comment on column atlas.knn_ivf_cell.cells is "
               "'The image''s own cell first, then the cells almost as near to it (or its own again).'")


def downgrade() -> None:
    op.execute("drop table atlas.knn_ivf_cell")
    op.execute("drop table atlas.knn_ivf_centroid")
    op.execute("drop table atlas.knn_ivf_layout")
