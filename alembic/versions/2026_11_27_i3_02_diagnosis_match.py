"""Image metadata: how the diagnosis text was matched to its ICD-10-CM code.

exact, synonym or fuzzy (rapidfuzz above a strict score) against the curated
mapping seed, or unmapped; never a silent guess, so the match kind is kept.

Revision ID: i3_02
Revises: i3_01
Create Date: 2026-11-27
"""
from alembic import op

revision = "i3_02"
down_revision = "i3_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        alter table atlas.image_metadata
            add column icd10_match text
                constraint ck_meta_icd10_match
                    check (icd10_match in ('exact', 'synonym', 'fuzzy', 'unmapped'))
        """
    )


def downgrade() -> None:
    op.execute("alter table atlas.image_metadata drop column icd10_match")
