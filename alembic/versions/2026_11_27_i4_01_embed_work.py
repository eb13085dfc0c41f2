"""Embed work table: batches of images per model that workers claim with leases.

Several `skinmap embed` processes (one per GPU, or on several machines) share
one model's work through this table: a worker claims the next open batch with
`for update skip locked`, holds it for `lease_until`, and marks it done in the
same transaction that writes its vectors. A batch whose lease ran out (its
worker died) is claimed again by the next worker.

Revision ID: i4_01
Revises: i3_02
Create Date: 2026-11-27
"""
from alembic import op

revision = "i4_01"
down_revision = "i3_02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table atlas.embed_work (
            embed_work_id bigint generated always as identity
                constraint pk_embed_work primary key,
            model_id integer not null
                constraint fk_embed_work_model
                    references atlas.embedding_model (model_id) on delete cascade,
            image_ids bigint[] not null
                constraint ck_embed_work_image_ids check (cardinality(image_ids) > 0),
            status text not null default 'pending'
                constraint ck_embed_work_status check (status in ('pending', 'claimed', 'done')),
            lease_owner text,
            lease_token text,
            lease_until timestamptz,
            n_claims integer not null default 0,
            created_at timestamptz not null default now(),
            finished_at timestamptz,
            constraint ck_embed_work_lease check (
                (status = 'claimed') = (lease_token is not null and lease_until is not null)
            )
        )
        """
    )
    op.execute(
        "create index ix_embed_work_open on atlas.embed_work (model_id, embed_work_id) where status <> 'done'"
    )


def downgrade() -> None:
    op.execute("drop table atlas.embed_work")
