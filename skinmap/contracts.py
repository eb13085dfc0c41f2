"""The column contracts of the kpi views per model version, as declared in dbt YAML.

A released contract is a promise to BI tools and analysts: tests compare the
YAML with the snapshot in tests/kpi_contracts_released.json, so changing a
released version's columns fails unless it becomes a new version. Release a
new version (or a new model) with `python -m skinmap.contracts --write`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

KPI_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "models" / "marts" / "kpi"
SNAPSHOT = Path(__file__).resolve().parent.parent / "tests" / "kpi_contracts_released.json"


def _version_columns(base: list[dict], version: dict) -> list[dict]:
    """dbt's rule: a version's `columns` may include/exclude the model's and add or override some."""
    spec = version.get("columns")
    if spec is None:
        return base
    columns = {c["name"]: c for c in base}
    chosen: dict[str, dict] = {}
    for item in spec:
        if "include" in item:
            include = item["include"]
            names = list(columns) if include in ("all", "*") else include
            chosen.update({n: columns[n] for n in names if n not in item.get("exclude", [])})
        else:
            chosen[item["name"]] = {**columns.get(item["name"], {}), **item}
    return list(chosen.values())


def declared_models() -> list[dict]:
    """Every model entry in the kpi folder's YAML files."""
    models = []
    for path in sorted(KPI_DIR.glob("*.yml")):
        models += (yaml.safe_load(path.read_text()) or {}).get("models", [])
    return models


def declared_contracts() -> dict[str, list[list[str]]]:
    """{'kpi_representation_v1': [[column, data_type], ...]} for every declared version."""
    contracts = {}
    for model in declared_models():
        for version in model.get("versions", []):
            columns = _version_columns(model.get("columns", []), version)
            contracts[f"{model['name']}_v{version['v']}"] = [[c["name"], c.get("data_type")] for c in columns]
    return contracts


def released_contracts() -> dict[str, list[list[str]]]:
    return json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}


def write_snapshot() -> None:
    """Release every declared version; released ones must not have changed."""
    released = released_contracts()
    declared = declared_contracts()
    changed = [name for name in released if name in declared and declared[name] != released[name]]
    if changed:
        raise SystemExit(f"released contracts changed: {changed}; declare a new version instead")
    SNAPSHOT.write_text(json.dumps({**released, **declared}, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m skinmap.contracts --write")
    write_snapshot()
