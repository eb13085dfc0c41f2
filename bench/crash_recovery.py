"""Crashes, concurrency and load on a synthetic demo atlas; the figures of docs/reliability.md.

    LC_ALL=C.UTF-8 python bench/crash_recovery.py            # ~15 min on 2 cores
    python bench/crash_recovery.py --kills 3 --readers 10 --read-seconds 10   # a quick look

Runs in its own SKINMAP_HOME (a temporary folder unless --home) with the
embedded server listening on a loopback port for the reader sessions:

1. the demo pipeline through the CLI, uninterrupted: the reference;
2. 50 reader sessions over TCP on every kpi view of it for 60 s;
3. 4 `skinmap embed` processes on one new model at once; two `skinmap build`
   at once and a build during `skinmap knn --full`, a reader polling every
   kpi view meanwhile;
4. the same pipeline in a second database, each step SIGKILLed at >= 20
   random points and restarted, the server stopped under ingest and embed;
   then rows and kpi views against the reference.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LC_ALL", "C.UTF-8")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=None, help="SKINMAP_HOME to use (default: a temporary one)")
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per step")
    parser.add_argument("--server-stops", type=int, default=3, help="server stops under ingest and under embed each")
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--read-seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="skinmap-crash-"))
    os.environ["SKINMAP_HOME"] = str(home)
    os.environ.pop("SKINMAP_DATABASE_URL", None)
    os.environ.setdefault("SKINMAP_DBT_TARGET_PATH", str(home / "dbt_target"))

    from skinmap import db, embedded, reader_access
    from skinmap.reliability import concurrency, crash, readers, scenario
    from skinmap.synth import generate_atlas

    began = time.monotonic()
    figures: dict = {"scale": args.scale, "seed": args.seed}
    port = _free_port()

    def start_server() -> None:
        embedded.start_tcp(port)

    start_server()
    admin = embedded.admin_url()
    data_dir = home / "atlas"
    truth = generate_atlas(data_dir, scale=args.scale, seed=args.seed)
    figures["images"] = truth["n_images_total"]
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    steps = crash.pipeline_steps(data_dir, truth)
    reference = scenario.reference_run(admin, "crash_reference", steps, logs)
    figures["reference_seconds"] = reference
    print(f"{truth['n_images_total']} images; reference run: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in reference.items()), flush=True)
    reference_url = db.with_database(admin, "crash_reference")

    password = reader_access.grant_reader(reference_url, "loadtest")
    reader_url = reader_access.reader_url(reference_url, "loadtest", host="127.0.0.1", port=port)
    assert password in reader_url
    load = readers.load(reader_url, sessions=args.readers, seconds=args.read_seconds)
    print(load.line(), flush=True)
    figures["load"] = {"sessions": load.n_sessions, "seconds": load.seconds, "queries": load.n_queries,
                       "errors": len(load.errors), "views": len(load.views_read),
                       "p50_ms": round(load.percentile(50), 1), "p95_ms": round(load.percentile(95), 1)}
    for error in load.errors[:5]:
        print("  reader error:", error)

    figures["concurrency"] = concurrency.run_all(admin, "crash_reference", login="loadtest", echo=print)

    result = scenario.crash_run(
        admin, data_dir, truth, logs, kills={s.name: args.kills for s in steps},
        server_stops={"ingest": args.server_stops, "embed": args.server_stops}, seed=args.seed,
        stop_server=embedded.stop, start_server=start_server, reference_seconds=reference)
    for name, outcome in result.server_restarts.items():
        print(f"server stopped under {name}: {outcome}")
    figures["kills"] = {k: r.n_kills for k, r in result.kills.items()}
    figures["completions_checked"] = {k: r.n_completions for k, r in result.kills.items()}
    figures["server_restarts"] = result.server_restarts
    figures["rows_lost"] = result.rows_lost
    figures["rows_duplicated"] = result.rows_duplicated
    figures["tables_checked"] = {d.table: d.n_rows for d in result.table_diffs}
    figures["kpi_views_equal"] = f"{result.n_views - len(result.differing_views)} of {result.n_views}"
    figures["seconds"] = round(time.monotonic() - began, 1)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    embedded.stop()
    ok = (not load.errors and result.rows_lost == result.rows_duplicated == 0 and not result.differing_views
          and all(not d.n_unexpected for d in result.table_diffs) and figures["concurrency"]["ok"])
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
