"""Per-image novelty aggregates: mean cosine distance to the k nearest earlier images.

For every cutoff year c (a release year of an image or a dataset) and every
image released in c or earlier: the mean distance to its k nearest images
released before c, itself left out. Images of year c are the query set of c;
earlier images are the null baseline's reference scores. Keeping the mean
(and sum, count, k-th distance) instead of 100 edges per image is what makes
k=100 fit at 1.1M images.

Revision ID: i5_02
Revises: i5_01
Create Date: 2026-11-27
"""
from alembic import op

revision = "i5_02"
down_revision = "i5_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.knn_novelty (
            model_id integer not null
                constraint fk_knn_novelty_model references atlas.embedding_model (model_id),
            scope text not null constraint ck_knn_novelty_scope check (scope in ('earlier_years')),
            cutoff_year smallint not null,
            image_id bigint not null
                constraint fk_knn_novelty_image references atlas.image (image_id) on delete cascade,
            k integer not null constraint ck_knn_novelty_k check (k >= 1),
            n_neighbours integer not null,
            sum_distance double precision,
            novelty double precision,
            kth_distance double precision,
            engine text not null constraint ck_knn_novelty_engine check (engine in ('sql', 'exact')),
            constraint pk_knn_novelty primary key (model_id, scope, cutoff_year, image_id),
            constraint ck_knn_novelty_mean check (
                (n_neighbours = 0 and novelty is null) or (n_neighbours > 0 and novelty is not null)
            )
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table atlas.knn_novelty")
