"""One-hot ground truth (ISIC 2018, ISIC 2019): exactly one class column holds 1."""
from __future__ import annotations

UNKNOWN_CLASSES = {"unk"}


def onehot_diagnosis(values: dict[str, str], classes: list[str],
                     names: dict[str, str]) -> tuple[str, tuple[str, str | None, str] | None]:
    """The diagnosis name of the one hot class; blank and a problem when none or several are hot."""
    hot = []
    for column in classes:
        try:
            if float(values.get(column) or 0) == 1.0:
                hot.append(column)
        except ValueError:
            return "", (column, values.get(column), "not a one-hot value (expected 0 or 1)")
    if len(hot) != 1:
        reason = "no class marked in one-hot ground truth" if not hot else "several classes marked in one-hot ground truth"
        return "", (",".join(classes), ",".join(hot) or None, reason)
    if hot[0].lower() in UNKNOWN_CLASSES:
        return "", None
    return names.get(hot[0].lower(), hot[0].lower()), None
