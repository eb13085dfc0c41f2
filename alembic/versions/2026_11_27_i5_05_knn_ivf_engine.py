"""Edges and novelty aggregates may come from the 'ivf' engine (inverted lists in torch, for field scale).

Revision ID: i5_05
Revises: i6_07
Create Date: 2026-11-27
"""
from alembic import op

revision = "i5_05"
down_revision = "i6_07"
branch_labels = None
depends_on = None

_TABLES = (("knn_edge", "ck_knn_edge_engine"), ("knn_novelty", "ck_knn_novelty_engine"))


def _allow(engines: str) -> None:
    for table, constraint in _TABLES:
        op.execute(f"alter table atlas.{table} drop constraint {constraint}")
        op.execute(f"alter table atlas.{table} add constraint {constraint} check (engine in ({engines}))")


def upgrade() -> None:
    _allow("'sql', 'exact', 'ivf'")


def downgrade() -> None:
    for table, _ in _TABLES:
        op.execute(f"delete from atlas.{table} where engine = 'ivf'")
    _allow("'sql', 'exact'")
