"""Keep the sorted k nearest distances of each image at the newest cutoff.

The newest cutoff (the year after the newest release) scores every image
against all earlier ones. When a dataset of a newer year is added, old
images' lists at that cutoff can only gain the new images: with the k
distances stored, the lists are merged with the new candidates instead of
searched again (an update costs new x all, not all x all). Other cutoffs
keep aggregates only (NULL here), which is what lets k=100 fit at 1.1M.

Revision ID: i5_04
Revises: i4_02
Create Date: 2026-11-27
"""
from alembic import op

revision = "i5_04"
down_revision = "i4_02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("alter table atlas.knn_novelty add column distances real[]")
    op.execute(
        "alter table atlas.knn_novelty add constraint ck_knn_novelty_distances "
        "check (distances is null or cardinality(distances) = n_neighbours)"
    )


def downgrade() -> None:
    op.execute("alter table atlas.knn_novelty drop constraint ck_knn_novelty_distances")
    op.execute("alter table atlas.knn_novelty drop column distances")
