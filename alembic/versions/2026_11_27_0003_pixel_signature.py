"""Pixel signatures: a mean-centred, unit-norm 32x32 grayscale thumbnail per image.

The dot product of two signatures is their normalised cross-correlation, a
second check of near-duplicate candidates that general image encoders cannot
separate (DESIGN.md, near duplicates). The mirrored signature makes the check
flip-aware. Computed at ingest, without torch.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.pixel_signature (
            image_id bigint not null
                constraint pk_pixel_signature primary key
                constraint fk_pixel_signature_image
                    references atlas.image (image_id) on delete cascade,
            signature vector(1024) not null,
            signature_mirrored vector(1024) not null
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table atlas.pixel_signature")
