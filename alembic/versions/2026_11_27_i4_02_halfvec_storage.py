"""Per-model vector storage: float32 `vector` (default) or `halfvec` (half the bytes, HNSW up to 4,000 d).

atlas.embedding_model.storage records the choice; a halfvec model's vectors go
to the new column atlas.embedding.vec_half and `vec` stays null for them
(exactly one of the two is set). Readers get one vector per row as
`coalesce(vec, vec_half::vector)` (dbt's stg_atlas__embeddings exposes it as
`vec`). atlas.ensure_embedding_index_v2 builds the per-model HNSW index on
whichever column the model uses.

Revision ID: i4_02
Revises: i6_06
Create Date: 2026-11-27
"""
from alembic import op

from skinmap.sqlfiles import apply_sql

revision = "i4_02"
down_revision = "i6_06"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "alter table atlas.embedding_model add column storage text not null default 'vector' "
        "constraint ck_embedding_model_storage check (storage in ('vector', 'halfvec'))"
    )
    op.execute("alter table atlas.embedding add column vec_half halfvec")
    op.execute("alter table atlas.embedding alter column vec drop not null")
    op.execute(
        "alter table atlas.embedding add constraint ck_embedding_one_vector "
        "check ((vec is null) <> (vec_half is null))"
    )
    apply_sql("atlas.ensure_embedding_index_v2")


def downgrade() -> None:
    op.execute("drop function atlas.ensure_embedding_index_v2(integer)")
    op.execute("alter table atlas.embedding drop constraint ck_embedding_one_vector")
    # float32 `vector` cannot be rebuilt from halfvec losslessly: halfvec models' vectors go with the column
    op.execute(
        "delete from atlas.embedding as e using atlas.embedding_model as m "
        "where m.model_id = e.model_id and m.storage = 'halfvec'"
    )
    op.execute("alter table atlas.embedding drop column vec_half")
    op.execute("alter table atlas.embedding alter column vec set not null")
    op.execute("alter table atlas.embedding_model drop column storage")
