"""transformers encoders: family 'transformers', the hub revision and every weight file's sha256.

`skinmap embed --model hf:ORG/NAME` (or hf:/local/dir) loads a transformers
model (the authors' SkinMap through its remote code, MONET as a CLIPModel).
atlas.embedding_model.revision records the hub commit the files came from
(or 'local' for a directory), and weight_files maps each weight and
remote-code file of that snapshot to its sha256, so a vector can be traced
to the exact bytes that made it.

Revision ID: i18_02
Revises: i17_02
Create Date: 2026-12-02
"""
from alembic import op

revision = "i18_02"
down_revision = "i17_02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("alter table atlas.embedding_model drop constraint ck_embedding_model_family")
    op.execute(
        "alter table atlas.embedding_model add constraint ck_embedding_model_family "
        "check (family in ('open_clip', 'efficientnet_lite', 'imported', 'transformers'))"
    )
    op.execute("alter table atlas.embedding_model add column revision text")
    op.execute(
        "alter table atlas.embedding_model add column weight_files jsonb "
        "constraint ck_embedding_model_weight_files check (weight_files is null or jsonb_typeof(weight_files) = 'object')"
    )


def downgrade() -> None:
    # the old family check cannot hold transformers models: their rows and vectors go
    op.execute(
        "delete from atlas.embedding as e using atlas.embedding_model as m "
        "where m.model_id = e.model_id and m.family = 'transformers'"
    )
    for table in ("embed_run", "text_vector", "dataset_frechet"):
        op.execute(
            f"delete from atlas.{table} as t using atlas.embedding_model as m "
            f"where m.model_id = t.model_id and m.family = 'transformers'"
        )
    op.execute("delete from atlas.embedding_model where family = 'transformers'")
    op.execute("alter table atlas.embedding_model drop column weight_files")
    op.execute("alter table atlas.embedding_model drop column revision")
    op.execute("alter table atlas.embedding_model drop constraint ck_embedding_model_family")
    op.execute(
        "alter table atlas.embedding_model add constraint ck_embedding_model_family "
        "check (family in ('open_clip', 'efficientnet_lite', 'imported'))"
    )
