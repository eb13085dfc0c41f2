"""PH2 (`PH2_dataset.xlsx`): 200 dermoscopic images from Porto, one spreadsheet.

The workbook has a legend block above the table (rows 2-9) and a two-row
header: `Clinical Diagnosis` spans the columns `Common Nevus`, `Atypical
Nevus`, `Melanoma`, one of which holds an `X`. `Histological Diagnosis` is
filled for some images only (Melanoma, Dysplastic Nevus, Lentigo Maligna...):
it is the diagnosis where given, else the clinical class. The dermoscopic
criteria and colour columns are known and not mapped. Images are
`<id>/<id>_Dermoscopic_Image/<id>.bmp` under `PH2 Dataset images`.
"""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import PH2
from skinmap.ingest.loader import SourceRow

CLINICAL = {"Common Nevus": "common nevus", "Atypical Nevus": "atypical nevus", "Melanoma": "melanoma"}
IGNORED_PREFIXES = ("asymmetry", "pigment network", "dots/globules", "streaks", "regression areas",
                    "blue-whitish veil")
IGNORED = {"white", "red", "light-brown", "dark-brown", "blue-gray", "black"}


def read(tables: list[Table]) -> AdapterRows:
    t = tables[0]
    key = t.require("Image Name", "image_name", "name")
    histology = t.find("Histological Diagnosis")
    classes = {t.require(column): name for column, name in CLINICAL.items()}
    rows = []
    for r in t.rows:
        marked = [name for column, name in classes.items() if r[column].strip().upper() == "X"]
        problems = []
        if len(marked) != 1:
            problems.append((",".join(classes), ",".join(marked) or None,
                             "no clinical class marked" if not marked else "several clinical classes marked"))
        diagnosis = (histology and r[histology]) or (marked[0] if len(marked) == 1 else "")
        image = r[key]
        rows.append(SourceRow(row(
            source_key=image, file=f"{image}/{image}_Dermoscopic_Image/{image}.bmp" if image else "",
            diagnosis=diagnosis, country="PT",
        ), problems=problems))
    return AdapterRows(rows, unknown_columns(t, {key, histology, *classes}, IGNORED, IGNORED_PREFIXES))


ADAPTER = Adapter("ph2", PH2, "PH2_dataset.xlsx; --images is `PH2 Dataset images` "
                  "(<id>/<id>_Dermoscopic_Image/<id>.bmp)", (1, 1), read)
