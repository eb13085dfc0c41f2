"""Image: whether a file was read, and the source collection inside a dataset.

Metadata-only ingest (images not downloaded yet) loads rows without files so
that representation KPIs exist before anything is embedded; has_image_file
says which rows have pixels. source_collection keeps the collection a row
comes from inside a compound dataset (ISIC 2019: HAM10000, BCN20000, MSK;
HAM10000's `dataset` column), which decides the image's release year.

Revision ID: i3_01
Revises: 0004
Create Date: 2026-11-27
"""
from alembic import op

revision = "i3_01"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        alter table atlas.image
            add column has_image_file boolean
                generated always as (byte_sha256 is not null) stored,
            add column source_collection text
        """
    )


def downgrade() -> None:
    op.execute("alter table atlas.image drop column source_collection, drop column has_image_file")
