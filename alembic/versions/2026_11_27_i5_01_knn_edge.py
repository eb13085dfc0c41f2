"""kNN edges: each image's k nearest images of the same model, filled by a kNN engine.

One table for both engines (SQL HNSW and exact torch) under one contract:
(model, scope, image, rank) -> neighbour and cosine distance. Scope 'all'
searches every image of the model. Only the small k that duplicates and
graphs need is kept as edges; novelty's large k is kept as per-image
aggregates (atlas.knn_novelty), so 1.1M images x k=100 never become rows.

Revision ID: i5_01
Revises: i4_01
Create Date: 2026-11-27
"""
from alembic import op

revision = "i5_01"
down_revision = "i4_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.knn_edge (
            model_id integer not null
                constraint fk_knn_edge_model references atlas.embedding_model (model_id),
            scope text not null constraint ck_knn_edge_scope check (scope in ('all')),
            image_id bigint not null
                constraint fk_knn_edge_image references atlas.image (image_id) on delete cascade,
            neighbour_rank smallint not null constraint ck_knn_edge_rank check (neighbour_rank >= 1),
            neighbour_image_id bigint not null
                constraint fk_knn_edge_neighbour references atlas.image (image_id) on delete cascade,
            cosine_distance real not null,
            engine text not null constraint ck_knn_edge_engine check (engine in ('sql', 'exact')),
            constraint pk_knn_edge primary key (model_id, scope, image_id, neighbour_rank),
            constraint ck_knn_edge_not_self check (neighbour_image_id <> image_id)
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table atlas.knn_edge")
