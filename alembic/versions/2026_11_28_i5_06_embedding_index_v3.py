"""Function atlas.ensure_embedding_index_v3 (from sql/): an HNSW graph as dense as the model's size needs.

v2 built every model's index with pgvector's defaults (m 16,
ef_construction 64). At 1.14M clustered vectors that graph's recall@100 is
0.78 and stays below 0.95 at any hnsw.ef_search; from 250,000 images v3
builds m 32 / ef_construction 128 (recall@100 0.95-0.97), and rebuilds an
index that was built sparser while the model was small. v1 and v2 stay.

Revision ID: i5_06
Revises: i5_05
Create Date: 2026-11-28
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "i5_06"
down_revision = "i5_05"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("atlas.ensure_embedding_index_v3")


def downgrade() -> None:
    op.execute("drop function atlas.ensure_embedding_index_v3(integer, bigint)")
