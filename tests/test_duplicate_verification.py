"""Near duplicates on real skin images: hidden copies of ../shared/realdev found, real neighbours kept apart.

The whole path a user runs (ingest, embed with the offline ImageNet
EfficientNet-Lite0, knn, verify-duplicates, dbt build) on 40 real images and
one copy under each of the benchmark's 16 transforms. The full benchmark with
its per-transform table is bench/near_duplicates_real.py.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skinmap.db import connect
from skinmap.duplicates import benchmark, transforms
from skinmap.duplicates.local_features import describe, inliers
from skinmap.duplicates.verify import CONFIG, verify_candidates

REALDEV = Path(__file__).resolve().parents[2] / "shared" / "realdev"


def _real(name: str) -> Image.Image:
    return Image.open(REALDEV / name).convert("RGB")


@pytest.fixture(scope="module")
def verified_atlas(server_url, tmp_path_factory):
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images
    from skinmap import db, migrate
    from skinmap.dbt_runner import build
    from skinmap.ingest import ingest, load_mapping
    from skinmap.knn import compute_neighbours

    assert (REALDEV / "images.csv").is_file(), f"realdev images are expected at {REALDEV}"
    data = tmp_path_factory.mktemp("realdev_copies")
    truth = benchmark.build(REALDEV, data, copies_per_transform=1, limit=40)
    url = db.create_database(server_url, "t_duplicate_verification", drop_first=True)
    migrate.upgrade(url)
    for slug in (benchmark.ORIGINALS, benchmark.COPIES):
        ingest(url, load_mapping(data / slug / "mapping.yaml"), progress=False)
    embed_images(url, load_encoder("efficientnet-lite0", "imagenet"), batch_size=32, workers=0, progress=False)
    compute_neighbours(url, engine="exact", k=10)
    first = verify_candidates(url, progress=False)
    again = verify_candidates(url, progress=False)
    build(url, quiet=True)
    yield url, truth, first, again
    db.drop_database(server_url, "t_duplicate_verification")


def _found(url: str) -> dict[frozenset[str], str]:
    with connect(url) as conn:
        rows = conn.execute(
            "select ia.source_key, ib.source_key, p.verified_by from kpi.kpi_near_duplicate_pairs_v2 p "
            "join atlas.image ia on ia.image_id = p.image_id_a join atlas.image ib on ib.image_id = p.image_id_b"
        ).fetchall()
    return {frozenset((a, b)): by for a, b, by in rows}


def test_every_hidden_copy_is_found_and_no_real_neighbour_is(verified_atlas):
    url, truth, _, _ = verified_atlas
    found = _found(url)
    missed = [sorted(p) for p in truth.positives() if p not in found]
    wrong = [sorted(p) for p in found if p not in truth.positives() and not truth.is_same_lesion(*sorted(p))]
    assert len(truth.copy_of) == len(transforms.all_names())
    assert not missed, f"copies not found: {missed}"
    assert not wrong, f"unrelated real images paired: {wrong}"
    assert {found[p] for p in truth.positives()} == {"local_features"}


def test_verification_is_stored_once_and_resumes(verified_atlas):
    url, _, first, again = verified_atlas
    assert first.verified > 0 and first.unreadable == 0
    assert again.verified == 0 and again.already_verified == first.candidates
    with connect(url) as conn:
        n = conn.execute("select count(*) from atlas.duplicate_verification").fetchone()[0]
    assert n == first.verified


def test_a_crop_and_a_quarter_turn_match_an_unrelated_lesion_does_not():
    original = _real("ham10000_skinlyze/ISIC_0024306.jpg")
    copy_rng = np.random.default_rng(0)
    features = describe(original, CONFIG)
    for name in ("crop", "rot90+jitter", "crop+mirror"):
        copy = transforms.apply(original, name, copy_rng)
        assert inliers(features, describe(copy, CONFIG), CONFIG) >= 30, name
    other = describe(_real("ham10000_skinlyze/ISIC_0024307.jpg"), CONFIG)
    assert inliers(features, other, CONFIG) < 10


def test_a_pair_without_a_readable_file_is_reported_and_falls_back_to_the_signature(verified_atlas):
    """Runs last: it removes one copy's file and verdicts, verifies again, and rebuilds the pairs."""
    from skinmap.dbt_runner import build

    url, truth, _, _ = verified_atlas
    key = next(k for k, (_, name) in truth.copy_of.items() if name == "mirror")
    with connect(url) as conn:
        image_id, path = conn.execute("select image_id, file_path from atlas.image where source_key = %s",
                                      (key,)).fetchone()
        conn.execute("delete from atlas.duplicate_verification where %s in (image_id_a, image_id_b)", (image_id,))
        conn.commit()
    Path(path).rename(path + ".gone")
    summary = verify_candidates(url, progress=False)
    assert summary.verified == summary.unreadable > 0
    build(url, select="int_embedding_pairs_within_threshold kpi_near_duplicate_pairs", quiet=True)
    with connect(url) as conn:
        reasons = {r for (r,) in conn.execute(
            "select unreadable_reason from atlas.duplicate_verification where n_inliers is null")}
        by = conn.execute(
            "select verified_by from kpi.kpi_near_duplicate_pairs_v2 where %s in (image_id_a, image_id_b)",
            (image_id,)).fetchall()
    assert reasons == {"missing file"}
    assert by == [("pixel_signature",)]  # a mirror keeps its mirrored signature: the fallback still finds it
