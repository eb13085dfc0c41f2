"""Function atlas.ensure_embedding_index_v1 (from sql/): one HNSW cosine index per model.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("atlas.ensure_embedding_index_v1")


def downgrade() -> None:
    op.execute("drop function atlas.ensure_embedding_index_v1(integer)")
