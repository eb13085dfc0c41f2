"""Identity without pixels: the shared source image id of an image row.

Two rows are one image when their datasets publish it under the same source
id (DESIGN.md, "Identity and unique counting"): the ISIC archive id
`ISIC_0024306` is HAM10000's `image_id`, ISIC 2018's and 2019's `image`
(also as `ISIC_0024306_downsampled`) and ISIC 2020's `image_name`. The
canonical form drops the `_downsampled` suffix and a file extension, so all
of them read `ISIC_0024306`. Ids outside the ISIC namespace are kept as the
source (or a mapping's `source_image_id` column) gives them: only a dataset
that states a shared id takes part in id-based identity.
"""
from __future__ import annotations

import re

ISIC_IMAGE_ID = re.compile(r"^(ISIC_[0-9]{7})(?:_downsampled)?(?:\.(?:jpe?g|png))?$", re.IGNORECASE)
# The same rule in SQL (migration backfill, release-year resolution): keep them in step.
ISIC_IMAGE_ID_SQL = r"^ISIC_[0-9]{7}(_downsampled)?(\.(jpe?g|png))?$"


def isic_image_id(key: str | None) -> str | None:
    """`ISIC_0024306` for `ISIC_0024306`, `ISIC_0024306_downsampled`, `ISIC_0024306.jpg`; else None."""
    match = ISIC_IMAGE_ID.match((key or "").strip())
    return f"ISIC_{match.group(1)[5:]}" if match else None


def canonical_source_image_id(raw: str | None) -> str | None:
    """The shared id in canonical form: an ISIC id without suffix, any other id stripped; blank is None."""
    value = (raw or "").strip()
    if not value:
        return None
    return isic_image_id(value) or value
