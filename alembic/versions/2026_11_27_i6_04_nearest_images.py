"""Function atlas.nearest_images_v1 (from sql/): an analyst helper, documented in the README.

Revision ID: i6_04
Revises: i6_03
Create Date: 2026-11-27
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "i6_04"
down_revision = "i6_03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("atlas.nearest_images_v1")


def downgrade() -> None:
    op.execute("drop function atlas.nearest_images_v1(bigint, text, integer)")
