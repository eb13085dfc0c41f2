"""Harmonisation into one vocabulary, and property tests: no input row crashes an adapter."""
from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skinmap import harmonise
from skinmap.ingest.adapters import ADAPTERS
from skinmap.ingest.loader import _harmonise, _Row
from tests.test_adapters import CSV_FILES as FILES
from tests.test_adapters import FIXTURES


def test_age_buckets_become_midpoints_in_the_right_bin():
    assert harmonise.age_years("AGE_18_TO_29").value == 23.5
    assert harmonise.age_bin(harmonise.age_years("AGE_12_TO_17").value) == "0-17"
    assert harmonise.age_years("AGE_80_OR_ABOVE").value == 85
    assert harmonise.age_years("AGE_UNKNOWN").value is None
    assert harmonise.age_years("240").problem


def test_fitzpatrick_groups_and_unknowns():
    assert [harmonise.fitzpatrick_group_code(c).value for c in ("12", "34", "56")] == ["I-II", "III-IV", "V-VI"]
    assert harmonise.fitzpatrick_group_code("99").problem
    assert harmonise.fitzpatrick("NONE_IDENTIFIED").value is None and harmonise.fitzpatrick("FST4").value == 4


def test_diagnoses_map_exact_synonym_fuzzy_or_unmapped():
    assert harmonise.icd10("Kaposi Sarcoma").match == "exact"
    assert harmonise.icd10("kaposi's sarcoma").code == "C46.9"
    assert harmonise.icd10("nv").match == "synonym"
    assert harmonise.icd10("nevus, dysplastic").match == "fuzzy"
    assert harmonise.icd10("acral nevus").match == "unmapped" and harmonise.icd10("acral nevus").code is None
    assert harmonise.icd10("") is None


def test_synthetic_atlas_diagnoses_all_map():
    for name in ("melanocytic nevus", "melanoma", "seborrheic keratosis", "basal cell carcinoma", "keloid",
                 "vitiligo", "kaposi sarcoma", "actinic keratosis", "dermatofibroma", "tinea corporis",
                 "atopic dermatitis"):
        assert harmonise.icd10(name).match == "exact", name


def test_every_seed_code_has_its_category_block_and_chapter():
    seed = Path(harmonise.SEEDS_DIR / "icd10_diagnosis_map.csv")
    with seed.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 150
    for r in rows:
        assert r["icd10_category"] == r["icd10_code"][:3] and r["icd10_block"] and r["icd10_chapter"], r


def _header(name: str) -> list[list[str]]:
    headers = []
    for f in FILES[name]:
        with (FIXTURES / f).open(encoding="utf-8-sig") as handle:
            headers.append(next(csv.reader(handle)))
    return headers


cell = st.one_of(st.text(max_size=12), st.sampled_from(["-1", "unknown", "NONE_IDENTIFIED", "", "1.0", "56",
                                                        "AGE_18_TO_29", "{'a': 1}", "{'a'", "YES", "FST3"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(FILES)), data=st.data())
def test_no_input_row_crashes_an_adapter(tmp_path_factory, name, data):
    folder = tmp_path_factory.mktemp("prop")
    paths = []
    for i, header in enumerate(_header(name)):
        rows = data.draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), max_size=4))
        path = folder / f"{i}_{Path(FILES[name][i]).name}"
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
        paths.append(path)
    adapter = ADAPTERS[name]
    mapping = adapter.mapping(paths, None)
    for number, source_row in enumerate(adapter.load(paths).rows, start=1):
        r = _Row(number, source_row.values.get("source_key", ""), source_row.values)
        _harmonise(r, mapping, mapping.dataset.release_year)
        assert r.harmonised["fitzpatrick_group"] in (None, "I-II", "III-IV", "V-VI")
        assert r.harmonised["age_years"] is None or 0 <= r.harmonised["age_years"] <= 120
