"""Per-image quality screening computed at ingest (issue 14, part 2): atlas.image_quality.

One row per image that decoded (status 'ok'), written by the loader in the
same transaction as the image row: the raw metrics of skinmap.quality. The
thresholds that turn them into issues are dbt variables (quality_*), so they
can be re-measured without re-reading any image. Images ingested before this
revision have no row; int_images_quality_flagged reports them as not screened.

Revision ID: i14_01
Revises: i5_10
Create Date: 2026-12-02
"""
from alembic import op

revision = "i14_01"
down_revision = "i5_10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.image_quality (
            image_id bigint not null
                constraint pk_image_quality primary key
                constraint fk_image_quality_image
                    references atlas.image (image_id) on delete cascade,
            brightness_p99 real not null
                constraint ck_image_quality_brightness_p99 check (brightness_p99 between 0 and 1.0001),
            brightness_p05 real not null
                constraint ck_image_quality_brightness_p05 check (brightness_p05 between 0 and 1.0001),
            entropy real not null
                constraint ck_image_quality_entropy check (entropy >= 0),
            cv_blurriness real not null
                constraint ck_image_quality_cv_blurriness check (cv_blurriness between 0 and 1),
            sharpness real not null
                constraint ck_image_quality_sharpness check (sharpness >= 0),
            thumb_std real not null
                constraint ck_image_quality_thumb_std check (thumb_std >= 0),
            column_std real not null
                constraint ck_image_quality_column_std check (column_std >= 0),
            row_std real not null
                constraint ck_image_quality_row_std check (row_std >= 0),
            chroma real not null
                constraint ck_image_quality_chroma check (chroma between 0 and 255),
            measured_at timestamptz not null default now()
        )
        """
    )
    op.execute("comment on table atlas.image_quality is 'Raw quality metrics per image (skinmap.quality), computed at ingest'")


def downgrade() -> None:
    op.execute("drop table atlas.image_quality")
