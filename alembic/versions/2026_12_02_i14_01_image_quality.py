"""Per-image quality screening computed at ingest (issue 14, part 2). Filled in by the quality work.

Revision ID: i14_01
Revises: i5_10
Create Date: 2026-12-02
"""
from alembic import op  # noqa: F401

revision = "i14_01"
down_revision = "i5_10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
