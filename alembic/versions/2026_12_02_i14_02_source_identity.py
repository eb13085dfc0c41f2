"""Identity without pixels: shared source image ids (issue 14, part 3). Filled in by the identity work.

Revision ID: i14_02
Revises: i14_01
Create Date: 2026-12-02
"""
from alembic import op  # noqa: F401

revision = "i14_02"
down_revision = "i14_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
