"""Table atlas.text_vector: stored text embeddings (prompts) to search images by.

Revision ID: i6_03
Revises: i6_02
Create Date: 2026-11-27
"""
from alembic import op

revision = "i6_03"
down_revision = "i6_02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.text_vector (
            text_vector_id bigint generated always as identity
                constraint pk_text_vector primary key,
            model_id integer not null
                constraint fk_text_vector_model references atlas.embedding_model (model_id),
            label text not null,
            prompt text,
            vec vector not null,
            created_at timestamptz not null default now(),
            constraint uq_text_vector_model_label unique (model_id, label)
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table atlas.text_vector")
