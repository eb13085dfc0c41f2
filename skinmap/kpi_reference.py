"""docs/kpi-reference.md, generated from the kpi models' dbt YAML so that it cannot drift from them.

Every versioned view gets its definition (the version's description, else
the model's), its columns with types and descriptions, and the tests dbt
runs on it. A test (tests/test_kpi_reference.py) fails when the committed
file differs from what the YAML gives; regenerate it with
`python -m skinmap.kpi_reference --write`.
"""
from __future__ import annotations

import sys
from pathlib import Path

from skinmap.contracts import _version_columns, declared_models

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "kpi-reference.md"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _test_names(tests: list | None) -> list[str]:
    """`unique`, `expression_is_true (n <= m)`, … : a test and its one telling argument."""
    names = []
    for test in tests or []:
        if isinstance(test, str):
            names.append(test)
            continue
        (name, spec), = test.items()
        args = (spec or {}).get("arguments", spec or {})
        detail = args.get("expression") or args.get("values") or args.get("combination_of_columns") or \
            args.get("compare_model") or args.get("n_rows")
        if isinstance(detail, list):
            detail = ", ".join(str(d) for d in detail)
        names.append(f"{name} ({detail})" if detail is not None else name)
    return names


def render() -> str:
    """The whole reference, views in name order."""
    out = ["# KPI reference", "",
           "Generated from `dbt_project/models/marts/kpi/*.yml` by `python -m skinmap.kpi_reference --write`;",
           "do not edit by hand. Every view lives in schema `kpi` with an enforced contract: a released",
           "version's columns never change (a change is a new version). Read them with",
           "`skinmap kpi NAME`, SQL (`select * from kpi.NAME`) or a BI tool (`skinmap db url --reader`).", ""]
    views = []
    for model in declared_models():
        for version in model.get("versions", []):
            views.append((f"{model['name']}_v{version['v']}", model, version))
    out += ["| view | what it holds |", "|---|---|"]
    for name, model, version in sorted(views, key=lambda v: v[0]):
        summary = _one_line(version.get("description") or model.get("description"))
        out.append(f"| [`{name}`](#{name}) | {summary.split('. ')[0].rstrip('.')}. |")
    for name, model, version in sorted(views, key=lambda v: v[0]):
        latest = model.get("latest_version")
        tag = " (latest)" if latest is not None and str(latest) == str(version["v"]) else ""
        out += ["", f"## {name}", "", f"Version {version['v']}{tag} of `{model['name']}`. "
                + _one_line(version.get("description") or model.get("description")), ""]
        model_tests = _test_names(model.get("data_tests")) + _test_names(version.get("data_tests"))
        if model_tests:
            out += ["Tests on the view: " + "; ".join(f"`{t}`" for t in model_tests) + ".", ""]
        out += ["| column | type | meaning | tests |", "|---|---|---|---|"]
        for column in _version_columns(model.get("columns", []), version):
            tests = "; ".join(_test_names(column.get("data_tests")))
            out.append(f"| `{column['name']}` | {column.get('data_type', '')} | "
                       f"{_one_line(column.get('description'))} | {_one_line(tests)} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m skinmap.kpi_reference --write")
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(render())
