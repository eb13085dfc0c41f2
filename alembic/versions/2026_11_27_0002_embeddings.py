"""Embeddings: the pgvector extension, embedding models, one vector per image and model.

Vectors of several models (of different dimensions) live side by side in one
untyped `vector` column; each model gets its own partial HNSW cosine index on
`vec::vector(dim)` (created by atlas.ensure_embedding_index_v1 after loading).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("create extension if not exists vector")
    op.execute(
        """
        create table atlas.embedding_model (
            model_id integer generated always as identity
                constraint pk_embedding_model primary key,
            model_name text not null constraint uq_embedding_model_name unique,
            family text not null
                constraint ck_embedding_model_family
                    check (family in ('open_clip', 'efficientnet_lite', 'imported')),
            architecture text not null,
            weights text not null,
            weights_sha256 text,
            is_random_weights boolean not null,
            dimension integer not null constraint ck_embedding_model_dimension check (dimension > 0),
            image_size integer,
            created_at timestamptz not null default now()
        )
        """
    )
    op.execute(
        """
        create table atlas.embedding (
            model_id integer not null
                constraint fk_embedding_model references atlas.embedding_model (model_id),
            image_id bigint not null
                constraint fk_embedding_image references atlas.image (image_id) on delete cascade,
            vec vector not null,
            embedded_at timestamptz not null default now(),
            constraint pk_embedding primary key (model_id, image_id)
        )
        """
    )
    op.execute(
        """
        create table atlas.embed_run (
            embed_run_id bigint generated always as identity
                constraint pk_embed_run primary key,
            model_id integer not null
                constraint fk_embed_run_model references atlas.embedding_model (model_id),
            device text not null,
            batch_size integer not null,
            is_random_weights boolean not null,
            n_embedded integer not null default 0,
            n_quarantined integer not null default 0,
            seconds double precision,
            started_at timestamptz not null default now(),
            finished_at timestamptz
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table atlas.embed_run")
    op.execute("drop table atlas.embedding")
    op.execute("drop table atlas.embedding_model")
