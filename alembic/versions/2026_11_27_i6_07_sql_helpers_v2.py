"""Functions atlas.nearest_images_v2, images_nearest_text_v2, novelty_of_images_v2 (from sql/).

The analyst helpers for both vector storages: v1 read only
atlas.embedding.vec, so halfvec models (vectors in vec_half) got nothing; v2
reads the model's own column with the expression of its partial HNSW index.
Same signatures and result columns as v1, and the same access: no grant to
skinmap_reader (it has no usage on schema atlas), owner access only. The v1
functions stay.

Revision ID: i6_07
Revises: i5_04
Create Date: 2026-11-27
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "i6_07"
down_revision = "i5_04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("atlas.model_vector_column_v1")  # the one storage lookup the three share
    apply_sql("atlas.nearest_images_v2")
    apply_sql("atlas.images_nearest_text_v2")
    apply_sql("atlas.novelty_of_images_v2")


def downgrade() -> None:
    op.execute("drop function atlas.novelty_of_images_v2(bigint[], text, integer)")
    op.execute("drop function atlas.images_nearest_text_v2(text, text, integer)")
    op.execute("drop function atlas.nearest_images_v2(bigint, text, integer)")
    op.execute("drop function atlas.model_vector_column_v1(text)")
