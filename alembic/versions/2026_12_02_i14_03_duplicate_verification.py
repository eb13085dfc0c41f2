"""Verified near-duplicate candidates: the verification step's verdict per candidate pair (issue 14, part 1).

Revision ID: i14_03
Revises: i14_02
Create Date: 2026-12-02
"""
from alembic import op  # noqa: F401

revision = "i14_03"
down_revision = "i14_02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
