"""Work sharing between embed workers: batches claimed from atlas.embed_work with leases.

Any number of `skinmap embed` processes, on one machine or many, point at one
database. Each claims the next open batch with `for update skip locked`, so no
two hold the same batch; the batch is marked done in the transaction that
writes its vectors (embedder.writer.commit_batch), so a batch is written once.
A worker that dies leaves its batch claimed until the lease runs out; then the
next worker claims it again. On the dead worker's own machine that wait is
skipped: a lease whose owner process no longer exists is expired at once.
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

import psycopg

DEFAULT_LEASE_SECONDS = 600.0
_SEED_LOCK_CLASS = 20264  # first key of pg_advisory_xact_lock(class, model_id) while seeding


@dataclass(frozen=True)
class WorkerId:
    """Who holds a lease: machine name and process id, as `host:pid`."""

    host: str
    pid: int

    @classmethod
    def here(cls, host: str | None = None) -> WorkerId:
        return cls(host or socket.gethostname(), os.getpid())

    @property
    def owner(self) -> str:
        return f"{self.host}:{self.pid}"


@dataclass
class Claim:
    """One claimed batch: the images still to embed in it, and the token that proves the lease."""

    embed_work_id: int
    token: str
    items: list[tuple[int, str]]  # (image_id, file_path) of ok images without a vector yet


def seed(conn: psycopg.Connection, model_id: int, batch_size: int) -> int:
    """Split the model's images without a vector into pending batches, unless open batches exist.

    Returns the number of batches created. Serialised per model with an
    advisory lock, so workers starting together seed once.
    """
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s, %s)", (_SEED_LOCK_CLASS, model_id))
        is_open = conn.execute(
            "select exists (select 1 from atlas.embed_work where model_id = %s and status <> 'done')", (model_id,)
        ).fetchone()[0]
        if is_open:
            return 0
        cursor = conn.execute(
            """
            insert into atlas.embed_work (model_id, image_ids)
            select %(model_id)s, array_agg(todo.image_id order by todo.image_id)
            from (
                select
                    i.image_id,
                    (row_number() over (order by i.image_id) - 1) / %(batch_size)s as batch_no
                from atlas.image as i
                where i.status = 'ok'
                    and i.file_path is not null
                    and not exists (
                        select 1 from atlas.embedding as e
                        where e.model_id = %(model_id)s and e.image_id = i.image_id
                    )
            ) as todo
            group by todo.batch_no
            order by todo.batch_no
            """,
            {"model_id": model_id, "batch_size": max(1, batch_size)},
        )
        return cursor.rowcount


def count_todo(conn: psycopg.Connection, model_id: int) -> int:
    """Ok images that have no vector for this model yet."""
    return conn.execute(
        """
        select count(*) from atlas.image as i
        where i.status = 'ok' and i.file_path is not null
          and not exists (select 1 from atlas.embedding as e where e.model_id = %s and e.image_id = i.image_id)
        """,
        (model_id,),
    ).fetchone()[0]


def expire_dead_local_leases(conn: psycopg.Connection, model_id: int, host: str) -> int:
    """Expire leases held by processes of this machine that no longer exist (a killed worker)."""
    rows = conn.execute(
        "select embed_work_id, lease_owner from atlas.embed_work "
        "where model_id = %s and status = 'claimed' and lease_owner like %s",
        (model_id, f"{host}:%"),
    ).fetchall()
    dead = [work_id for work_id, owner in rows if not _is_alive(int(owner.rsplit(":", 1)[1]))]
    if dead:
        conn.execute(
            "update atlas.embed_work set lease_until = clock_timestamp() - interval '1 second' "
            "where embed_work_id = any(%s) and status = 'claimed'",
            (dead,),
        )
    conn.commit()
    return len(dead)


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def claim(
    conn: psycopg.Connection, model_id: int, worker: WorkerId, *, lease_seconds: float, max_images: int | None = None
) -> Claim | None:
    """Claim the next pending or lease-expired batch (at most `max_images`; the rest goes back as a new batch)."""
    token = uuid.uuid4().hex
    with conn.transaction():
        row = conn.execute(
            """
            with next_batch as (
                select w.embed_work_id
                from atlas.embed_work as w
                where w.model_id = %(model_id)s
                    and (w.status = 'pending' or (w.status = 'claimed' and w.lease_until < clock_timestamp()))
                order by w.embed_work_id
                for update skip locked
                limit 1
            )
            update atlas.embed_work as w
            set status = 'claimed',
                lease_owner = %(owner)s,
                lease_token = %(token)s,
                lease_until = clock_timestamp() + make_interval(secs => %(lease)s),
                n_claims = w.n_claims + 1
            from next_batch
            where w.embed_work_id = next_batch.embed_work_id
            returning w.embed_work_id, w.image_ids
            """,
            {"model_id": model_id, "owner": worker.owner, "token": token, "lease": float(lease_seconds)},
        ).fetchone()
        if row is None:
            return None
        work_id, image_ids = row
        if max_images is not None and len(image_ids) > max_images:
            image_ids, rest = image_ids[:max_images], image_ids[max_images:]
            conn.execute("update atlas.embed_work set image_ids = %s where embed_work_id = %s", (image_ids, work_id))
            conn.execute("insert into atlas.embed_work (model_id, image_ids) values (%s, %s)", (model_id, rest))
        items = conn.execute(
            """
            select i.image_id, i.file_path
            from atlas.image as i
            where i.image_id = any(%(ids)s)
                and i.status = 'ok'
                and i.file_path is not null
                and not exists (
                    select 1 from atlas.embedding as e where e.model_id = %(model_id)s and e.image_id = i.image_id
                )
            order by i.image_id
            """,
            {"ids": image_ids, "model_id": model_id},
        ).fetchall()
    return Claim(int(work_id), token, [(int(i), p) for i, p in items])


def others_hold_open_work(conn: psycopg.Connection, model_id: int, worker: WorkerId) -> float | None:
    """Seconds until the soonest lease of another process runs out, or None when no other process holds work."""
    row = conn.execute(
        """
        select min(extract(epoch from (lease_until - clock_timestamp())))
        from atlas.embed_work
        where model_id = %s and status = 'claimed' and lease_owner <> %s
        """,
        (model_id, worker.owner),
    ).fetchone()
    conn.commit()
    return None if row[0] is None else max(0.0, float(row[0]))
