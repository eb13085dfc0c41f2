"""Each image's sorted novelty distances move to atlas.knn_novelty_list, one row per image, not per cutoff.

i5_04 kept the lists in atlas.knn_novelty at the newest cutoff. A newer
release then made a new newest cutoff: every list (1.1M of 100 distances at
field scale) was copied to it and emptied at the old one, although only
the few thousand lists that a new image entered change. Keyed by image,
a list is written only when it changes; knn_novelty keeps the aggregates.
A row holds the image's distances to its nearest images released before
the model's newest cutoff (every dated image but itself), nearest first.

Revision ID: i5_07
Revises: i5_06
Create Date: 2026-11-28
"""
from alembic import op

revision = "i5_07"
down_revision = "i5_06"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.knn_novelty_list (
            model_id integer not null
                constraint fk_knn_novelty_list_model references atlas.embedding_model (model_id),
            image_id bigint not null
                constraint fk_knn_novelty_list_image references atlas.image (image_id) on delete cascade,
            distances real[] not null,
            constraint pk_knn_novelty_list primary key (model_id, image_id)
        )
        """
    )
    op.execute(
        "insert into atlas.knn_novelty_list (model_id, image_id, distances) "
        "select model_id, image_id, distances from atlas.knn_novelty "
        "where scope = 'earlier_years' and distances is not null"
    )
    op.execute("alter table atlas.knn_novelty drop constraint ck_knn_novelty_distances")
    op.execute("alter table atlas.knn_novelty drop column distances")


def downgrade() -> None:
    op.execute("alter table atlas.knn_novelty add column distances real[]")
    op.execute(
        "update atlas.knn_novelty as n set distances = l.distances from atlas.knn_novelty_list as l "
        "where l.model_id = n.model_id and l.image_id = n.image_id and n.scope = 'earlier_years' "
        "and n.cutoff_year = (select max(c.cutoff_year) from atlas.knn_novelty as c "
        "where c.model_id = n.model_id and c.scope = 'earlier_years')"
    )
    op.execute(
        "alter table atlas.knn_novelty add constraint ck_knn_novelty_distances "
        "check (distances is null or cardinality(distances) = n_neighbours)"
    )
    op.execute("drop table atlas.knn_novelty_list")
