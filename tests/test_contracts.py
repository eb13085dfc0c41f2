"""KPI contracts are a published API: a released version's columns never change, every view is documented."""
from __future__ import annotations

import pytest

from skinmap import contracts


def test_released_contracts_are_unchanged():
    declared = contracts.declared_contracts()
    released = contracts.released_contracts()
    assert "kpi_representation_v1" in released
    missing = sorted(set(released) - set(declared))
    assert not missing, f"released versions removed (deprecate them instead): {missing}"
    changed = [name for name in released if declared[name] != released[name]]
    assert not changed, (
        f"released contracts changed: {changed}. Declare a new version (versions: - v: 2) "
        "and keep the old one; then `python -m skinmap.contracts --write`."
    )


@pytest.mark.parametrize("model", contracts.declared_models(), ids=lambda m: m["name"])
def test_every_kpi_model_is_versioned_enforced_and_documented(model):
    assert model.get("description"), model["name"]
    assert model.get("config", {}).get("contract", {}).get("enforced") is True, model["name"]
    versions = [v["v"] for v in model.get("versions", [])]
    assert versions and model.get("latest_version") in versions, model["name"]
    for column in model["columns"]:
        assert column.get("data_type") and column.get("description"), f"{model['name']}.{column['name']}"
    for version in versions:
        assert (contracts.KPI_DIR / f"{model['name']}_v{version}.sql").exists(), (model["name"], version)


def test_a_changed_column_type_is_caught(monkeypatch):
    """The guard itself: flip one type of a released version in memory and the comparison sees it."""
    released = contracts.released_contracts()
    tampered = {name: [list(c) for c in cols] for name, cols in released.items()}
    tampered["kpi_representation_v1"][0][1] = "varchar"
    monkeypatch.setattr(contracts, "declared_contracts", lambda: tampered)
    with pytest.raises(AssertionError, match="kpi_representation_v1"):
        test_released_contracts_are_unchanged()


def test_version_columns_follow_dbt_include_exclude():
    base = [{"name": "a", "data_type": "text"}, {"name": "b", "data_type": "bigint"}]
    version = {"v": 2, "columns": [{"include": "all", "exclude": ["b"]}, {"name": "c", "data_type": "integer"}]}
    assert [c["name"] for c in contracts._version_columns(base, version)] == ["a", "c"]
    assert contracts._version_columns(base, {"v": 1}) == base
