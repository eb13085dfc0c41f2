"""SQL style is checked, not hoped for: sqlfluff (dbt templater) on every model and sql/ file."""
from __future__ import annotations

from skinmap import sqllint


def test_sqlfluff_is_clean(atlas_db, capfd):
    assert sqllint.main(atlas_db) == 0, capfd.readouterr().out[-5000:]
