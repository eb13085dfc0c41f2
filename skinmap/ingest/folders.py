"""Folder-per-class layouts: the folders an image sits in are its metadata.

MED-NODE (`melanoma/`, `naevus/`), SD-198 and its SD-128 subset
(`<class>/<file>`), DermNet (`train/<class>/<file>`): no metadata file, the
class is the folder name. A mapping with `layout: folders` reads the image
tree under `images`, or, for a metadata-only ingest, a file listing given as
`metadata` (one path per line relative to the image root, as
`find . -type f` prints it; `./` and Windows separators are accepted). Each
image file becomes one row with the columns

- `path`: the path relative to the root (the source key and the file),
- `name`, `stem`: the file name with and without its extension,
- `parent`: the folder that holds the file (the class in most layouts),
- `folder_1` .. `folder_N`: the folders from the root down,

which the mapping maps like any CSV column (`diagnosis: parent`). Files that
are not images (README, .txt, .csv) are skipped.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from skinmap.ingest.mapping import MappingError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def _paths_from_listing(listing: Path) -> list[str]:
    with listing.open(encoding="utf-8-sig", errors="replace") as handle:
        lines = [line.strip().replace("\\", "/") for line in handle]
    return [line[2:] if line.startswith("./") else line for line in lines if line and line not in (".", "./")]


def _paths_from_tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def image_paths(source: Path) -> list[str]:
    """The image files of a tree (a folder) or of a listing (a text file), relative to the image root."""
    if source.is_dir():
        paths = _paths_from_tree(source)
    elif source.is_file():
        paths = _paths_from_listing(source)
    else:
        raise MappingError(f"{source} is neither an image folder nor a file listing")
    return [p for p in paths if PurePosixPath(p).suffix.lower() in IMAGE_SUFFIXES]


def read(source: Path) -> tuple[list[str], Iterator[dict[str, str]]]:
    """The columns and rows of a folder-per-class layout (see the module docstring)."""
    paths = image_paths(source)
    depth = max((len(PurePosixPath(p).parts) - 1 for p in paths), default=0)
    header = ["path", "name", "stem", "parent", *(f"folder_{i}" for i in range(1, depth + 1))]

    def rows() -> Iterator[dict[str, str]]:
        for p in paths:
            pure = PurePosixPath(p)
            folders = pure.parts[:-1]
            row = {"path": p, "name": pure.name, "stem": pure.stem, "parent": folders[-1] if folders else ""}
            row.update({f"folder_{i}": (folders[i - 1] if i <= len(folders) else "") for i in range(1, depth + 1)})
            yield row

    return header, rows()
