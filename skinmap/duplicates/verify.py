"""`skinmap verify-duplicates`: the local-feature verdict of every near-duplicate candidate pair.

Candidates are the vector neighbours that dbt checks (atlas.knn_edge, rank
<= near_duplicate_candidates_k, cosine distance <= near_duplicate_max_distance,
as dbt_project.yml declares them). Each image is read once, described once
(ORB keypoints of it and of its mirror), and every pair gets its count of
geometrically consistent matches in atlas.duplicate_verification. The
threshold is applied in dbt (near_duplicate_min_inliers), so it can be changed
without verifying again. Pairs already verified with the same method are
skipped: a second run adds nothing and an interrupted one resumes.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from skinmap.db import connect
from skinmap.dbt_runner import project_var
from skinmap.duplicates.local_features import FeatureConfig, Features, describe, inliers

METHOD = "orb-ransac-v1"  # a changed FeatureConfig default is a new method name: old verdicts stay apart
CONFIG = FeatureConfig(method="orb", side=320, n_features=300)
BLOCK_IMAGES = 2000  # images described at a time; their pairs are verified and committed together


@dataclass
class VerifySummary:
    candidates: int = 0
    already_verified: int = 0
    verified: int = 0
    unreadable: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.verified / self.seconds if self.seconds else 0.0
        return (f"verify-duplicates ({METHOD}): {self.candidates} candidate pairs, {self.already_verified} already "
                f"verified, {self.verified} verified now ({self.unreadable} with an unreadable file), "
                f"{self.seconds:.1f} s ({rate:.0f} pairs/s)")


def _describe_file(path: str | None) -> Features | str:
    from skinmap.hashing import UnreadableImage, decode_rgb

    if not path:
        return "no readable image file (metadata-only or quarantined row)"
    try:
        return describe(decode_rgb(Path(path).read_bytes()), CONFIG)
    except FileNotFoundError:
        return "missing file"
    except (UnreadableImage, OSError) as exc:
        return f"unreadable file: {exc}"


def _chunk(pairs: np.ndarray, features: dict[int, Features | str]) -> tuple[list, dict]:
    ids = set(pairs.ravel().tolist())
    return pairs.tolist(), {i: features[i] for i in ids}


def _match_chunk(chunk: tuple[list, dict]) -> list[tuple]:
    """Rows of atlas.duplicate_verification for pairs whose images are described (or a reason they are not)."""
    pairs, features = chunk
    rows = []
    for a, b in pairs:
        fa, fb = features[a], features[b]
        if isinstance(fa, str) or isinstance(fb, str):
            rows.append((a, b, METHOD, None, fa if isinstance(fa, str) else fb))
        else:
            rows.append((a, b, METHOD, inliers(fa, fb, CONFIG), None))
    return rows


def _pending_pairs(conn, max_distance: float, k: int) -> tuple[np.ndarray, int, int]:
    """Candidate pairs (a < b, sorted) of every model without a verdict of METHOD; also the total and verified counts.

    Counted and sorted in SQL, so that only the pending pairs travel, as two arrays.
    """
    n_candidates, n_verified, a, b = conn.execute(
        """
        with candidates as (
            select distinct least(image_id, neighbour_image_id) as a, greatest(image_id, neighbour_image_id) as b
            from atlas.knn_edge
            where neighbour_rank <= %(k)s and cosine_distance <= %(tau)s
        ),

        judged as (
            select c.a, c.b, v.image_id_a is not null as is_verified
            from candidates as c
            left join atlas.duplicate_verification as v
                on v.image_id_a = c.a and v.image_id_b = c.b and v.method = %(method)s
        )

        select
            count(*),
            count(*) filter (where is_verified),
            coalesce(array_agg(a order by a, b) filter (where not is_verified), '{}'),
            coalesce(array_agg(b order by a, b) filter (where not is_verified), '{}')
        from judged
        """,
        {"k": k, "tau": max_distance, "method": METHOD},
    ).fetchone()
    return np.column_stack([np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)]), n_candidates, n_verified


def _blocks(pairs: np.ndarray) -> Iterable[np.ndarray]:
    """Slices of the pairs (sorted by a) that together touch about BLOCK_IMAGES images."""
    start = 0
    while start < len(pairs):
        seen: set[int] = set()
        end = start
        while end < len(pairs) and len(seen) < BLOCK_IMAGES:
            seen.update(pairs[end])
            end += 1
        yield pairs[start:end]
        start = end


def verify_candidates(url: str, *, workers: int = 2, progress: bool = True) -> VerifySummary:
    """Verify every unverified candidate pair of the atlas at `url` with local features."""
    started = time.monotonic()
    summary = VerifySummary()
    max_distance = float(project_var("near_duplicate_max_distance"))
    k = int(project_var("near_duplicate_candidates_k"))
    with connect(url) as conn:
        pairs, summary.candidates, summary.already_verified = _pending_pairs(conn, max_distance, k)
        bar = tqdm(total=len(pairs), desc="verify duplicates", unit="pair", disable=not progress, leave=False)
        pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 and len(pairs) > 50 else None
        try:
            for block in _blocks(pairs):
                ids = np.unique(block)
                paths = dict(conn.execute(
                    "select image_id, file_path from atlas.image where image_id = any(%s) and status = 'ok'",
                    (ids.tolist(),)).fetchall())
                files = [paths.get(int(i)) for i in ids]
                described = list(pool.map(_describe_file, files, chunksize=16) if pool else map(_describe_file, files))
                features = dict(zip(ids.tolist(), described))
                chunks = [_chunk(part, features) for part in np.array_split(block, max(1, workers * 4))
                          if len(part)]
                rows = [row for done in (pool.map(_match_chunk, chunks) if pool else map(_match_chunk, chunks))
                        for row in done]
                summary.unreadable += sum(1 for row in rows if row[3] is None)
                bar.update(len(rows))
                with conn.cursor().copy(
                        "copy atlas.duplicate_verification (image_id_a, image_id_b, method, n_inliers, "
                        "unreadable_reason) from stdin") as copy:
                    for row in rows:
                        copy.write_row(row)
                conn.commit()  # a block at a time: an interrupted run keeps what it verified
                summary.verified += len(rows)
        finally:
            if pool:
                pool.shutdown()
            bar.close()
    summary.seconds = time.monotonic() - started
    return summary
