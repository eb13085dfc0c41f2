"""The kNN tables lose their per-row foreign keys; a statement trigger deletes the rows of deleted images.

atlas.knn_edge (11M rows at 1.1M images), knn_novelty (10M) and
knn_novelty_list (1.1M) are derived from atlas.embedding and written by
binary COPY millions of rows at a time. Each foreign key checked every row
(and locked the image row): inserting 1M edges took 14.7 s with their three
keys and 3.3 s without (300k atlas, 2 cores). A full kNN run at 1.1M writes
about 23M such rows. The engines only write images they read from
atlas.embedding; what the keys still did is now done set-wise:
atlas.forget_knn_rows_v1 (sql/functions) deletes a deleted image's or
model's rows, and dbt's source tests check that every image in them exists.

Revision ID: i5_09
Revises: i5_08
Create Date: 2026-11-28
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "i5_09"
down_revision = "i5_08"
branch_labels = None
depends_on = None

_KEYS = {  # table: (constraint, column, referenced table, on delete cascade)
    "knn_edge": [("fk_knn_edge_model", "model_id", "embedding_model", False),
                 ("fk_knn_edge_image", "image_id", "image", True),
                 ("fk_knn_edge_neighbour", "neighbour_image_id", "image", True)],
    "knn_novelty": [("fk_knn_novelty_model", "model_id", "embedding_model", False),
                    ("fk_knn_novelty_image", "image_id", "image", True)],
    "knn_novelty_list": [("fk_knn_novelty_list_model", "model_id", "embedding_model", False),
                         ("fk_knn_novelty_list_image", "image_id", "image", True)],
}
_TRIGGERS = {  # trigger: (table, event)
    "tr_image_forget_knn": ("image", "after delete on atlas.image referencing old table as gone for each statement"),
    "tr_image_truncate_forget_knn": ("image", "after truncate on atlas.image for each statement"),
    "tr_embedding_model_forget_knn": ("embedding_model", "after delete on atlas.embedding_model "
                                                         "referencing old table as gone for each statement"),
}


def upgrade() -> None:
    for table, keys in _KEYS.items():
        for constraint, *_ in keys:
            op.execute(f"alter table atlas.{table} drop constraint {constraint}")
    apply_sql("atlas.forget_knn_rows_v1")
    for trigger, (_, event) in _TRIGGERS.items():
        op.execute(f"create trigger {trigger} {event} execute function atlas.forget_knn_rows_v1()")


def downgrade() -> None:
    for trigger, (table, _) in _TRIGGERS.items():
        op.execute(f"drop trigger {trigger} on atlas.{table}")
    op.execute("drop function atlas.forget_knn_rows_v1()")
    for table, keys in _KEYS.items():
        for constraint, column, parent, cascade in keys:
            key = "model_id" if parent == "embedding_model" else "image_id"
            op.execute(f"delete from atlas.{table} as t where not exists "
                       f"(select from atlas.{parent} as p where p.{key} = t.{column})")
            op.execute(f"alter table atlas.{table} add constraint {constraint} foreign key ({column}) "
                       f"references atlas.{parent} ({key}){' on delete cascade' if cascade else ''}")
