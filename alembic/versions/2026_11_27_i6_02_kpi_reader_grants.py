"""Function atlas.grant_kpi_reader_v1 (from sql/), run once: skinmap_reader reads every kpi view.

dbt's on-run-end hook runs the same function after each build, because dbt
drops and recreates the views.

Revision ID: i6_02
Revises: i6_01
Create Date: 2026-11-27
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "i6_02"
down_revision = "i6_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("atlas.grant_kpi_reader_v1")
    op.execute("select atlas.grant_kpi_reader_v1()")


def downgrade() -> None:
    op.execute("alter default privileges in schema kpi revoke select on tables from skinmap_reader")
    op.execute("revoke select on all tables in schema kpi from skinmap_reader")
    op.execute("revoke usage on schema kpi from skinmap_reader")
    op.execute("drop function atlas.grant_kpi_reader_v1()")
