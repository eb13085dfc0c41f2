"""atlas.knn_novelty_list keeps each image's sorted distances packed (bytea of big-endian float4), not real[],
in an unlogged table.

The lists are the incremental update's own state (analysts read the
aggregates in atlas.knn_novelty). When 10,000 new images fall into the
atlas's own clusters, about 660,000 of 1.1M lists change: as real[], writing
them took 8.0 s and reading them 8.6 s (PostgreSQL sends and receives an
array one element at a time); packed, 2.1 s and 1.3 s (2 cores). The bytes
are float4send of each distance, nearest first: numpy reads them as '>f4'.
Replacing 660,000 of them took 5.1-6.5 s logged and 4.0-4.2 s unlogged
(no write-ahead log for 300 MB of state that can be derived again).

An unlogged table is emptied by crash recovery and is empty on a standby;
so is this one by the downgrade. The next kNN update then finds fewer
lists than scored images and re-scores the images a new dataset reaches
instead of merging their lists (equal results, slower); the next full run
writes them all again.

Revision ID: i5_10
Revises: i5_09
Create Date: 2026-11-28
"""
from alembic import op

revision = "i5_10"
down_revision = "i5_09"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a type change rewrites the table (an update of every row would leave the old arrays behind as dead rows
    # and a dropped column); USING takes no subquery, so a session-only function packs each list
    op.execute(
        "create function pg_temp.packed_float4(distances real[]) returns bytea language sql immutable as $$ "
        "select coalesce(string_agg(float4send(u.d), ''::bytea order by u.o), ''::bytea) "
        "from unnest(distances) with ordinality as u (d, o) $$"
    )
    op.execute("alter table atlas.knn_novelty_list alter column distances type bytea "
               "using pg_temp.packed_float4(distances)")
    op.execute("drop function pg_temp.packed_float4(real[])")
    op.execute("alter table atlas.knn_novelty_list set unlogged")
    op.execute(
        "comment on column atlas.knn_novelty_list.distances is 'distances to the nearest images released before "
        "the newest cutoff, nearest first, packed: float4send of each (numpy dtype >f4)'"
    )


def downgrade() -> None:
    op.execute("truncate atlas.knn_novelty_list")
    op.execute("alter table atlas.knn_novelty_list set logged")
    op.execute("alter table atlas.knn_novelty_list alter column distances type real[] using null")
