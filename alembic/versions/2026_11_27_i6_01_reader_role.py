"""Role skinmap_reader (from sql/): read-only access to schema kpi for BI tools and analysts.

Revision ID: i6_01
Revises: i5_03
Create Date: 2026-11-27
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "i6_01"
down_revision = "i5_03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql("skinmap_reader_v1")


def downgrade() -> None:
    # The role belongs to the server: other atlases on it may still use it.
    # Remove what it holds in this database, and the role only if nothing
    # elsewhere depends on it.
    op.execute("drop owned by skinmap_reader")
    op.execute(
        """
        do $$
        begin
            drop role skinmap_reader;
        exception
            when dependent_objects_still_exist then
                raise notice 'skinmap_reader is still used in another database; kept';
        end;
        $$
        """
    )
