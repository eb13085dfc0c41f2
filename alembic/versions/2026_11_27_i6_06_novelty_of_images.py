"""Function atlas.novelty_of_images_v1 (from sql/): an analyst helper, documented in the README.

Revision ID: i6_06
Revises: i6_05
Create Date: 2026-11-27
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "i6_06"
down_revision = "i6_05"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("atlas.novelty_of_images_v1")


def downgrade() -> None:
    op.execute("drop function atlas.novelty_of_images_v1(bigint[], text, integer)")
