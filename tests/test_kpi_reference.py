"""docs/kpi-reference.md is what the dbt YAML says, and every kpi view and column is in it."""
from __future__ import annotations

from skinmap import contracts, kpi_reference


def test_the_committed_reference_is_generated_from_the_yaml():
    committed = kpi_reference.REFERENCE.read_text()
    assert committed == kpi_reference.render(), (
        "docs/kpi-reference.md is stale: run `python -m skinmap.kpi_reference --write`")


def test_every_declared_view_and_column_is_documented():
    text = kpi_reference.REFERENCE.read_text()
    declared = contracts.declared_contracts()
    assert len(declared) > 20
    for view, columns in declared.items():
        section = text.split(f"\n## {view}\n", 1)
        assert len(section) == 2, view
        body = section[1].split("\n## ", 1)[0]
        for name, _ in columns:
            line = next((row for row in body.splitlines() if row.startswith(f"| `{name}` |")), None)
            assert line is not None, (view, name)
            meaning = line.split(" | ")[2]
            assert meaning.strip(), f"{view}.{name} has no description in its YAML"
