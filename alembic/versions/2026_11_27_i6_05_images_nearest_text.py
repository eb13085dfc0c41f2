"""Function atlas.images_nearest_text_v1 (from sql/): an analyst helper, documented in the README.

Revision ID: i6_05
Revises: i6_04
Create Date: 2026-11-27
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "i6_05"
down_revision = "i6_04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("atlas.images_nearest_text_v1")


def downgrade() -> None:
    op.execute("drop function atlas.images_nearest_text_v1(text, text, integer)")
