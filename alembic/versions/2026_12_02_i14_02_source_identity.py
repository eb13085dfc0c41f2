"""Identity without pixels: shared source image ids (issue 14, part 3).

`atlas.image.source_image_id` is the id under which the source publishes the
image in a namespace that other datasets share: the ISIC archive id
(`ISIC_0024306`, written by HAM10000, ISIC 2018, 2019 and 2020, also as
`ISIC_0024306_downsampled`). Rows with the same value are one image, with or
without pixels (skinmap/ingest/identity.py has the rule). Existing rows whose
key is an ISIC id are backfilled; an index serves the grouping and the
release-year resolution at ingest.

Revision ID: i14_02
Revises: i14_01
Create Date: 2026-12-02
"""
from alembic import op

revision = "i14_02"
down_revision = "i14_01"
branch_labels = None
depends_on = None

# Same rule as skinmap.ingest.identity.ISIC_IMAGE_ID_SQL (a migration keeps its own copy).
ISIC_KEY = r"^ISIC_[0-9]{7}(_downsampled)?(\.(jpe?g|png))?$"


def upgrade() -> None:
    op.execute("alter table atlas.image add column source_image_id text")
    op.execute(
        f"""
        update atlas.image
        set source_image_id = 'ISIC_' || substring(source_key from '^[Ii][Ss][Ii][Cc]_([0-9]{{7}})')
        where source_key ~* '{ISIC_KEY}'
        """
    )
    op.execute(
        """
        alter table atlas.image add constraint ck_image_source_image_id
            check (source_image_id is null or (source_image_id <> '' and source_image_id = btrim(source_image_id)))
        """
    )
    op.execute("create index ix_image_source_image_id on atlas.image (source_image_id) where source_image_id is not null")


def downgrade() -> None:
    op.execute("drop index atlas.ix_image_source_image_id")
    op.execute("alter table atlas.image drop constraint ck_image_source_image_id")
    op.execute("alter table atlas.image drop column source_image_id")
