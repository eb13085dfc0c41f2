"""`skinmap demo`: the whole pipeline on a synthetic atlas whose truth is known.

Generates the planted atlas (skinmap.synth), ingests it, embeds it with the
offline ImageNet EfficientNet-Lite0, runs `dbt build`, then prints the
headline KPIs beside the planted truth. Tests call the same functions on a
smaller atlas, so the demo's claims are the tests' claims.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skinmap import config, db, migrate

DEMO_ATLAS = "demo"  # `skinmap --atlas demo …` reads it
DEMO_DATABASE = db.atlas_database(DEMO_ATLAS)
DEMO_MODEL = "efficientnet-lite0"
DEMO_WEIGHTS = "imagenet"
DEMO_VOID_LANDMARKS = 2500  # above the demo's 2,059 images with vectors at scale 1
VOID_BOUNDARY_SHARE = 0.8  # a void is the planted one when this share of its boundary images lies on the path
# The dbt models that read image metadata or probes: rebuilt after `impute` fills the missing fields.
IMPUTED_METADATA_READERS = "stg_atlas__image_metadata+ stg_atlas__imputation_probes+"


@dataclass(frozen=True)
class Check:
    """One headline KPI next to its planted truth."""

    name: str
    planted: str
    measured: str
    ok: bool
    claimed: bool = True  # False: shown beside the truth, not claimed to recover it (the row says why)


def prepare_data(out_dir: Path, *, scale: float, seed: int, plant_void: bool = False) -> dict:
    """Generate the synthetic atlas once per (seed, scale, plant_void, generator code); reuse it afterwards.

    The demo plants the void (synth_spec.VOID_DATASET, 240+ images); tests that
    do not look for it leave it out and stay small.
    """
    from skinmap.synth import generate_atlas, generator_version

    truth_path = out_dir / "truth.json"
    if truth_path.exists():
        truth = json.loads(truth_path.read_text())
        wanted = (seed, scale, plant_void, generator_version())
        if (truth.get("seed"), truth.get("scale"), bool(truth.get("planted_void")),
                truth.get("generator_version")) == wanted:
            return truth
    return generate_atlas(out_dir, scale=scale, seed=seed, progress=True, plant_void=plant_void)


def run_pipeline(url: str, data_dir: Path, truth: dict, *, echo: Callable[[str], None] = print,
                 progress: bool = True) -> dict[str, float]:
    """Ingest every planted dataset, embed, compute kNN edges, build the KPIs; return seconds per step."""
    from skinmap.dbt_runner import build
    from skinmap.ingest import ingest, load_mapping

    seconds: dict[str, float] = {}
    migrate.ready(url)
    started = time.monotonic()
    for dataset in [*truth["datasets"], *truth.get("metadata_only_datasets", [])]:
        summary = ingest(url, load_mapping(data_dir / dataset["slug"] / "mapping.yaml"), progress=progress)
        for line in summary.lines():
            echo(line)
    seconds["ingest"] = time.monotonic() - started

    started = time.monotonic()
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images

    encoder = load_encoder(DEMO_MODEL, DEMO_WEIGHTS)
    echo(embed_images(url, encoder, batch_size=32, progress=progress).line())
    seconds["embed"] = time.monotonic() - started

    started = time.monotonic()
    from skinmap.knn import compute_neighbours

    echo(compute_neighbours(url).line())  # the kNN edges and novelty aggregates the dbt models read
    seconds["knn"] = time.monotonic() - started

    started = time.monotonic()
    from skinmap.duplicates.verify import verify_candidates

    echo(verify_candidates(url, progress=progress).line())  # local-feature verdicts of the duplicate candidates
    seconds["verify duplicates"] = time.monotonic() - started

    if truth.get("planted_void"):
        started = time.monotonic()
        from skinmap.voids.run import run_voids

        # every image a landmark (up to DEMO_VOID_LANDMARKS): with 150 of the path's images as landmarks its loop is lost
        echo(run_voids(url, f"{DEMO_MODEL}/{DEMO_WEIGHTS}", n_landmarks=DEMO_VOID_LANDMARKS).line())
        seconds["voids"] = time.monotonic() - started

    started = time.monotonic()
    echo(build(url, quiet=True))
    seconds["dbt build"] = time.monotonic() - started

    started = time.monotonic()
    from skinmap.impute import impute

    echo(impute(url, f"{DEMO_MODEL}/{DEMO_WEIGHTS}").line())  # probes need the identity groups of the first build
    echo(build(url, select=IMPUTED_METADATA_READERS, quiet=True))
    seconds["impute + rebuild"] = time.monotonic() - started
    return seconds


def _keys_by_image_id(conn) -> dict[int, tuple[str, str]]:
    rows = conn.execute(
        "select i.image_id, d.slug, i.source_key from atlas.image i join atlas.dataset d using (dataset_id)"
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _share_check(name: str, planted: float, measured: float | None, tolerance: float = 1e-9) -> Check:
    ok = measured is not None and abs(planted - float(measured)) <= tolerance
    shown = "NULL" if measured is None else f"{float(measured):.4f}"
    return Check(name, f"{planted:.4f}", shown, ok)


def check_against_truth(url: str, truth: dict, model_name: str) -> list[Check]:
    """Compare the KPI views with the planted truth; every number read comes from a kpi view."""
    checks: list[Check] = []
    with db.connect(url) as conn:
        keys = _keys_by_image_id(conn)
        headline = conn.execute(
            "select share_fitzpatrick_v_vi, share_pediatric from kpi.kpi_representation_headline_v2 "
            "where values_from = 'labelled' and counted_over = 'images'"
        ).fetchone()
        female = conn.execute(
            "select share from kpi.kpi_representation_v2 where values_from = 'labelled' "
            "and counted_over = 'images' and attribute = 'sex' and value = 'female'"
        ).fetchone()
        checks.append(_share_check("Fitzpatrick V-VI share (labelled)", truth["fitzpatrick_v_vi_share_known"],
                                   headline[0]))
        checks.append(_share_check("pediatric share 0-17 (labelled)", truth["pediatric_share_known"], headline[1]))
        checks.append(_share_check("female share (labelled)", truth["sex_female_share_known"],
                                   female[0] if female else None))
        checks += _imputation_checks(conn, truth, model_name)

        quarantined = {keys_ for keys_ in (
            (r[0], r[1]) for r in conn.execute(
                "select d.slug, i.source_key from atlas.image i join atlas.dataset d using (dataset_id) "
                "where i.status = 'quarantined'"
            )
        )}
        planted_q = {(q["slug"], q["key"]) for q in truth["quarantine"]}
        checks.append(Check("quarantined images (corrupt/missing)", str(len(planted_q)),
                            f"{len(planted_q & quarantined)} of them (+{len(quarantined - planted_q)} other)",
                            planted_q == quarantined))

        groups = [frozenset(keys[i] for i in ids) for (ids,) in
                  conn.execute("select image_ids from kpi.kpi_exact_duplicate_groups_v1")]
        planted_groups = [frozenset(tuple(x) for x in g) for g in truth["exact_duplicate_groups"]]
        found = sum(1 for g in planted_groups if any(g <= m for m in groups))
        checks.append(Check("exact duplicate groups found", str(len(planted_groups)),
                            f"{found} (of {len(groups)} reported)", found == len(planted_groups) == len(groups)))

        pairs = {frozenset((keys[a], keys[b])) for a, b in conn.execute(
            "select image_id_a, image_id_b from kpi.kpi_near_duplicate_pairs_v1 where model_name = %s", (model_name,)
        )}
        novelty = dict(conn.execute(
            "select release_year, novelty_vs_baseline from kpi.kpi_novelty_by_year_v1 where model_name = %s",
            (model_name,),
        ).fetchall())

    cluster_of = {tuple(k): c for c, members in enumerate(truth["duplicate_clusters"]) for k in members}
    planted_pairs = [frozenset((tuple(p["a"]), tuple(p["b"]))) for p in truth["near_duplicate_pairs"]]
    recall = sum(1 for p in planted_pairs if p in pairs) / max(1, len(planted_pairs))
    true_reported = sum(1 for p in pairs if len({cluster_of.get(k, -1 - hash(k)) for k in p}) == 1)
    precision = true_reported / max(1, len(pairs))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    by_transform: dict[str, list[int]] = {}
    for p, raw in zip(planted_pairs, truth["near_duplicate_pairs"]):
        by_transform.setdefault(raw["transform"], []).append(int(p in pairs))
    detail = ", ".join(f"{t} {sum(v)}/{len(v)}" for t, v in sorted(by_transform.items()))
    # Criteria: DESIGN.md's target is F1 >= 0.95 on real images; crops stay the hard case, so recall
    # is held to 0.85 and precision to 0.95 (small test atlases have ~12 pairs per transform).
    checks.append(Check("near-duplicate pairs found (recall)", str(len(planted_pairs)),
                        f"{sum(1 for p in planted_pairs if p in pairs)} ({recall:.3f}; {detail})", recall >= 0.85))
    checks.append(Check("near-duplicate precision / F1", "1.000 / 1.000",
                        f"{precision:.3f} / {f1:.3f} ({len(pairs)} pairs reported)", precision >= 0.95 and f1 >= 0.9))

    checks.append(_junk_check(url, truth))
    checks += _identity_checks(url, truth)
    if truth.get("planted_void"):
        checks.append(_void_check(url, truth, model_name))

    first_year = min(d["release_year"] for d in truth["datasets"])
    novel, repetitive = novelty.get(truth["novel_year"]), novelty.get(truth["repetitive_year"])
    first_value = novelty.get(first_year, "missing")
    checks.append(Check(f"first year {first_year} novelty", "NULL", "NULL" if first_value is None else str(first_value),
                        first_year in novelty and novelty[first_year] is None))
    checks.append(Check(
        f"novelty_vs_baseline novel {truth['novel_year']} > repetitive {truth['repetitive_year']}",
        "novel > 1 > repetitive",
        f"{float(novel or 0):.3f} vs {float(repetitive or 0):.3f}",
        novel is not None and repetitive is not None and float(novel) > 1.0 > float(repetitive),
    ))
    return checks


def _imputation_checks(conn, truth: dict, model_name: str) -> list[Check]:
    """The probes read the planted skin tone and age from the pixels; the imputed shares recover the true ones.

    The truth is each image's drawn Fitzpatrick type and age, labelled or
    not (synth's ``*_share_true``); labels are missing most where skin is
    darkest and patients youngest, so the labelled share misses it. A share
    recovers when the true value lies in the Wilson interval of the
    labelled-plus-imputed share over images.
    """
    probes = {r[0]: r[1:] for r in conn.execute(
        "select attribute, headline_metric, headline_value, headline_lo, headline_hi, chance_accuracy, "
        "n_classes, is_used, n_imputed from kpi.kpi_imputation_probe_quality_v1 where model_name = %s",
        (model_name,))}
    checks = []
    for attribute, floor in (("fitzpatrick_group", None), ("age_years", 0.3)):
        probe = probes.get(attribute)
        if probe is None:
            checks.append(Check(f"probe {attribute} (held-out, group split)", "above chance", "no probe", False))
            continue
        metric, value, lo, hi, chance, n_classes, used, n_imputed = probe
        floor = floor if floor is not None else 1.0 / n_classes  # balanced accuracy's chance
        checks.append(Check(
            f"probe {attribute} (held-out, group split)", f"{metric} > {floor:.2f} (chance)",
            f"{value:.3f} [{lo:.3f}, {hi:.3f}]; {'imputed ' + str(n_imputed) if used else 'not used'}",
            bool(used) and lo > floor))
    rows = {(r[0]): r[1:] for r in conn.execute(
        "select values_from, share_fitzpatrick_v_vi, share_fitzpatrick_v_vi_wilson_low, "
        "share_fitzpatrick_v_vi_wilson_high, n_fitzpatrick_known, share_pediatric, share_pediatric_wilson_low, "
        "share_pediatric_wilson_high, n_age_known from kpi.kpi_representation_headline_v2 "
        "where counted_over = 'images'")}
    both, labelled = rows.get("labelled_and_imputed"), rows.get("labelled")
    for name, planted, at in (("Fitzpatrick V-VI", truth["fitzpatrick_v_vi_share_true"], 0),
                              ("pediatric 0-17", truth["pediatric_share_true"], 4)):
        if both is None or both[at] is None or labelled is None:
            checks.append(Check(f"{name} share, labelled + imputed", f"{planted:.4f}", "missing", False))
            continue
        share, lo, hi, n_known = both[at:at + 4]
        measured = f"{share:.4f} [{lo:.4f}, {hi:.4f}] of {n_known} (labelled only {labelled[at]:.4f})"
        if at == 0:  # a class probe: the share itself is recovered
            checks.append(Check(f"{name} share, labelled + imputed (true: in the pixels)", f"{planted:.4f}",
                                measured, lo <= planted <= hi))
        else:  # Ridge ages shrink toward the mean: a child's imputed age is mostly adult, so no claim
            checks.append(Check(f"{name} share, labelled + imputed (Ridge ages shrink to the mean)",
                                f"{planted:.4f}", measured, lo <= planted <= hi, claimed=False))
    return checks


def _void_check(url: str, truth: dict, model_name: str) -> Check:
    """The planted void: a significant void whose boundary images lie on the planted path (kpi views only)."""
    planted = truth["planted_void"]
    path = {(planted["slug"], k) for k in planted["keys"]}
    with db.connect(url) as conn:
        voids = conn.execute(
            "select void_rank, persistence_over_null_max, is_significant "
            "from kpi.kpi_structural_voids_v1 where model_name = %s order by void_rank", (model_name,)).fetchall()
        boundary: dict[int, list[tuple[str, str]]] = {}
        for rank, slug, key in conn.execute(
                "select void_rank, dataset_slug, source_key from kpi.kpi_structural_void_boundary_images_v1 "
                "where model_name = %s", (model_name,)):
            boundary.setdefault(rank, []).append((slug, key))
    on_path = {rank: sum(k in path for k in keys) / len(keys) for rank, keys in boundary.items()}
    found = [(rank, ratio) for rank, ratio, significant in voids
             if significant and on_path.get(rank, 0.0) >= VOID_BOUNDARY_SHARE]
    name = f"planted void ({planted['n']} images around it)"
    if not found:
        best = max(on_path.values(), default=0.0)
        return Check(name, "a significant void on the path", f"none of {len(voids)} voids ({best:.0%} best)", False)
    rank, ratio = found[0]
    n_sig = sum(1 for *_, significant in voids if significant)
    return Check(name, "a significant void on the path",
                 f"void #{rank} of {n_sig} significant: {on_path[rank]:.0%} of its {len(boundary[rank])} boundary "
                 + (f"images on the path, persistence {float(ratio):.1f}x the null max" if ratio is not None
                    else "images on the path"), True)


def _junk_check(url: str, truth: dict) -> Check:
    """Planted junk (stripes, flat, dark, blurred) against kpi_image_quality_v1 and its per-image list.

    Every planted junk image must be flagged with its issue and be in no
    duplicate cluster (two flat images hash alike), and no other
    image flagged except as tiny: the resized near-duplicate copies can be
    under 64 px, which is tiny by the rule, and the count says so.
    """
    planted = {(j["slug"], j["key"]): j["issue"] for j in truth.get("junk", [])}
    with db.connect(url) as conn:
        listed: dict[tuple[str, str], set[str]] = {}
        for slug, key, issue in conn.execute(
                "select dataset_slug, source_key, issue from kpi.kpi_image_quality_flags_v1"):
            listed.setdefault((slug, key), set()).add(issue)
        n_any = conn.execute(
            "select coalesce(sum(n_flagged), 0) from kpi.kpi_image_quality_v1 where issue = 'any'").fetchone()[0]
        n_clustered = conn.execute(
            "select count(distinct i.image_id) from kpi.kpi_duplicate_clusters_v2 c "
            "cross join unnest(c.image_ids) as u(image_id) join atlas.image i on i.image_id = u.image_id "
            "join atlas.dataset d on d.dataset_id = i.dataset_id where (d.slug, i.source_key) in "
            "(select * from unnest(%s::text[], %s::text[]))",
            ([slug for slug, _ in planted], [key for _, key in planted])).fetchone()[0]
    caught = sum(1 for k, issue in planted.items() if issue in listed.get(k, set()))
    others = {k: v for k, v in listed.items() if k not in planted}
    other_issues = sorted({i for v in others.values() for i in v})
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(
        {j["kind"]: sum(1 for x in truth["junk"] if x["kind"] == j["kind"]) for j in truth.get("junk", [])}.items()))
    measured = (f"{caught} with their issue; kpi_image_quality_v1 any {n_any} "
                f"(+{len(others)} other: {', '.join(other_issues) or 'none'}); {n_clustered} in duplicate clusters")
    ok = (caught == len(planted) > 0 and int(n_any) == len(listed) and set(other_issues) <= {"tiny"}
          and n_clustered == 0)
    return Check("junk images flagged (image quality)", f"{len(planted)} ({kinds})", measured, ok)


def _identity_checks(url: str, truth: dict) -> list[Check]:
    """Identity without pixels: shots of one lesion, and a metadata-only set republishing ids."""
    if "republished" not in truth:
        return []
    with db.connect(url) as conn:
        per_lesion = {r[0]: r[1:] for r in conn.execute(
            "select dataset_slug, n_with_lesion_id, n_lesions, max_images_per_lesion, mean_images_per_lesion, "
            "n_with_patient_id, n_patients, max_images_per_patient from kpi.kpi_images_per_lesion_and_patient_v1 "
            "where grain = 'dataset'")}
        unique = conn.execute("select n_images, n_unique_by_source_id from kpi.kpi_unique_images_v1 "
                              "where grain = 'atlas'").fetchone()
        rep = truth["republished"]
        overlap = conn.execute(
            "select n_with_duplicate_in_b, share_with_duplicate_in_b, n_found_by_source_id "
            "from kpi.kpi_dataset_overlap_v2 where evidence = 'source_id' and dataset_slug_a = %s "
            "and dataset_slug_b = %s", (rep["slug"], rep["from"])).fetchone()
        by_pixels = conn.execute(
            "select coalesce(sum(n_with_duplicate_in_b), 0) from kpi.kpi_dataset_overlap_v2 "
            "where evidence in ('exact_pixels', 'near_duplicate') and dataset_slug_a = %s", (rep["slug"],)).fetchone()
    series = truth["lesion_series"]
    planted = truth["images_per_lesion"]

    def lesion_row(slug: str) -> tuple:
        p = planted[slug]
        return (p["n_with_lesion_id"], p["n_lesions"], p["max_images_per_lesion"], p["mean_images_per_lesion"],
                p["n_with_patient_id"], p["n_patients"], p["max_images_per_patient"])

    def same(measured: tuple | None, expected: tuple) -> bool:
        return measured is not None and all(
            (m is None and e is None) or (m is not None and e is not None and abs(float(m) - float(e)) < 1e-9)
            for m, e in zip(measured, expected))

    alpha = per_lesion.get(series["slug"])
    lesions_ok = all(same(per_lesion.get(slug), lesion_row(slug)) for slug in planted)
    u = truth["unique_by_source_id"]
    return [
        Check(f"shots of one lesion ({series['slug']}: {len(series['keys'])} images of {series['lesion_id']})",
              f"max {planted[series['slug']]['max_images_per_lesion']}, "
              f"{planted[series['slug']]['n_lesions']} lesions",
              f"max {alpha[2]}, {alpha[1]} lesions" if alpha else "missing",
              lesions_ok),
        Check("unique images by source id (atlas)", f"{u['n_unique']} of {u['n_images']}",
              f"{unique[1]} of {unique[0]}" if unique else "missing",
              unique is not None and tuple(unique) == (u["n_images"], u["n_unique"])),
        Check(f"{rep['slug']} republishes {rep['from']} (evidence source_id)", f"{rep['n']} (share 1.000)",
              f"{overlap[0]} (share {overlap[1]:.3f}; pixels/vectors: {by_pixels[0]})" if overlap else "missing",
              overlap is not None and overlap[0] == overlap[2] == rep["n"] and overlap[1] == 1.0
              and by_pixels[0] == 0),
    ]


def format_checks(checks: list[Check]) -> str:
    from skinmap.kpi import format_table

    return format_table(["KPI", "planted", "measured", "recovered"],
                        [(c.name, c.planted, c.measured, ("yes" if c.ok else "NO") if c.claimed else "not claimed")
                         for c in checks])


def run_demo(database_url: str | None, *, scale: float, seed: int, fresh: bool,
             echo: Callable[[str], None] = print) -> bool:
    """Run the demo end to end; return whether every headline KPI recovered the truth."""
    started = time.monotonic()
    if database_url:
        url = database_url
        echo(f"demo atlas in {db.redact(url)} (external database; kept as it is)")
    else:
        from skinmap import embedded

        url = db.create_database(embedded.admin_url(), DEMO_DATABASE, drop_first=fresh)
        echo(f"demo atlas in the embedded database {DEMO_DATABASE!r} ({embedded.pgdata_dir()})")
    data_dir = config.home() / "demo-data" / f"seed{seed}-scale{scale:g}"
    t0 = time.monotonic()
    truth = prepare_data(data_dir, scale=scale, seed=seed, plant_void=True)
    seconds = {"generate": time.monotonic() - t0}
    echo(f"synthetic atlas: {truth['n_images_total']} images in {len(truth['datasets'])} datasets ({data_dir})")
    seconds.update(run_pipeline(url, data_dir, truth, echo=echo))
    model_name = f"{DEMO_MODEL}/{DEMO_WEIGHTS}"
    checks = check_against_truth(url, truth, model_name)
    echo("")
    echo(f"Headline KPIs vs planted truth (model {model_name}: Google's ImageNet weights, pretrained, "
         "not dermatology-specific):")
    echo(format_checks(checks))
    total = time.monotonic() - started
    echo("")
    echo("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()) + f"; total {total:.1f} s")
    where = f"--database-url '{db.redact(url)}'" if database_url else f"--atlas {DEMO_ATLAS}"
    echo(f"explore: skinmap {where} kpi kpi_novelty_by_year   (or report, db url, ...)")
    return all(c.ok for c in checks if c.claimed)
