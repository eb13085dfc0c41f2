"""atlas.duplicate_verification: the local-feature verdict of each near-duplicate candidate pair.

Candidates come from the vector neighbours (atlas.knn_edge); `skinmap
verify-duplicates` reads both images, matches their ORB keypoints and counts
the matches that agree on one similarity transform (skinmap/duplicates).
The verdict depends on the pixels only, so a pair is verified once whichever
model proposed it; dbt decides with `near_duplicate_min_inliers` (issue 14).
A pair whose file could not be read keeps a row with n_inliers null, so it is
reported and not retried on every run.

Revision ID: i14_03
Revises: i14_02
Create Date: 2026-12-02
"""
from alembic import op

revision = "i14_03"
down_revision = "i14_02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.duplicate_verification (
            image_id_a bigint not null
                constraint fk_duplicate_verification_image_a references atlas.image (image_id) on delete cascade,
            image_id_b bigint not null
                constraint fk_duplicate_verification_image_b references atlas.image (image_id) on delete cascade,
            method text not null,
            n_inliers integer constraint ck_duplicate_verification_inliers check (n_inliers >= 0),
            unreadable_reason text,
            verified_at timestamptz not null default now(),
            constraint pk_duplicate_verification primary key (image_id_a, image_id_b, method),
            constraint ck_duplicate_verification_order check (image_id_a < image_id_b),
            constraint ck_duplicate_verification_verdict check ((n_inliers is null) = (unreadable_reason is not null))
        )
        """
    )
    op.execute("create index ix_duplicate_verification_image_b on atlas.duplicate_verification (image_id_b)")


def downgrade() -> None:
    op.execute("drop table atlas.duplicate_verification")
