"""Catalog facts of the datasets that have an adapter (mirrors the dataset_catalog seed)."""
from __future__ import annotations

from skinmap.ingest.mapping import DatasetInfo

FITZPATRICK17K = DatasetInfo("fitzpatrick17k", "Fitzpatrick17k", 2021, "clinical", "CC BY-NC-SA 3.0",
                             "https://github.com/mattgroh/fitzpatrick17k", None)
HAM10000 = DatasetInfo("ham10000", "HAM10000", 2018, "dermoscopic", "CC BY-NC 4.0",
                       "https://doi.org/10.7910/DVN/DBW86T", "AT")
ISIC2018 = DatasetInfo("isic2018", "ISIC 2018 task 3", 2018, "dermoscopic", "CC BY-NC 4.0",
                       "https://challenge.isic-archive.com/data/#2018", None)
ISIC2019 = DatasetInfo("isic2019", "ISIC 2019", 2019, "dermoscopic", "CC BY-NC 4.0",
                       "https://challenge.isic-archive.com/data/#2019", None)
ISIC2020 = DatasetInfo("isic2020", "ISIC 2020", 2020, "dermoscopic", "CC BY-NC 4.0",
                       "https://challenge.isic-archive.com/data/#2020", None)
PAD_UFES_20 = DatasetInfo("pad-ufes-20", "PAD-UFES-20", 2020, "clinical", "CC BY 4.0",
                          "https://doi.org/10.17632/zr7vgbcyr2.1", "BR")
DDI = DatasetInfo("ddi", "Diverse Dermatology Images", 2022, "clinical", "Stanford AIMI research use",
                  "https://ddi-dataset.github.io", "US")
DERM7PT = DatasetInfo("derm7pt", "Derm7pt", 2019, "dermoscopic", "research use",
                      "https://derm.cs.sfu.ca", "IT")
SCIN = DatasetInfo("scin", "SCIN", 2024, "clinical", "SCIN Data Use License",
                   "https://github.com/google-research-datasets/scin", "US")

# ISIC 2019 lesion_id prefixes: the collection the image comes from and that collection's year.
ISIC2019_COLLECTIONS = {"HAM_": ("ham10000", 2018), "BCN_": ("bcn20000", 2019), "MSK4_": ("msk", 2020)}
ISIC2016 = DatasetInfo("isic2016", "ISIC challenge 2016", 2016, "dermoscopic", "CC BY-NC 4.0",
                       "https://challenge.isic-archive.com/data/#2016", None)
ISIC2017 = DatasetInfo("isic2017", "ISIC challenge 2017", 2017, "dermoscopic", "CC BY-NC 4.0",
                       "https://challenge.isic-archive.com/data/#2017", None)
ISIC2024 = DatasetInfo("isic2024", "ISIC challenge 2024 (SLICE-3D)", 2024, "total-body tile", "CC BY-NC 4.0",
                       "https://challenge.isic-archive.com/data/#2024", None)
# The whole archive (the authors' "ISIC"): images of every collection, so no one release year; an image
# published in a challenge or dataset also ingested takes that year (loader._resolve_isic_release_years).
ISIC_ARCHIVE = DatasetInfo("isic-archive", "ISIC archive", None, "mixed", "per image (CC-0, CC-BY, CC-BY-NC)",
                           "https://api.isic-archive.com", None)
MSKCC = DatasetInfo("mskcc", "MSKCC consecutive biopsies 2020", 2020, "dermoscopic", "CC BY",
                    "https://doi.org/10.34970/151324", "US")
PH2 = DatasetInfo("ph2", "PH2", 2013, "dermoscopic", "research use",
                  "https://www.fc.up.pt/addi/ph2%20database.html", "PT")
