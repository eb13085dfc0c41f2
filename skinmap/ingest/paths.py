"""Where a metadata row's file name may point: inside the dataset's images folder, nowhere else.

A downloaded metadata file is untrusted: `../secret.jpg`, `/etc/passwd` or a
symlink inside the folder that points out of it would make ingest read (and
hash, and store the size of) any file the user can read. A file name is
refused when it is absolute, has a `..` part, or resolves (symlinks followed)
outside the resolved images folder; a directory named `x.jpg` is refused too.
Each refusal is a quarantine reason, so the row is kept and counted.
"""
from __future__ import annotations

from pathlib import Path, PurePath

ABSOLUTE = "unsafe path: absolute file name (names must be relative to the images folder)"
PARENT = "unsafe path: '..' in file name (leaves the images folder)"
OUTSIDE = "unsafe path: resolves outside the images folder (symlink out of it)"
NUL = "unsafe path: NUL byte in file name"
NOT_A_FILE = "not a regular file (a directory or device)"
MISSING = "missing file"


class UnsafePath(ValueError):
    """The file name may not be read; str() is the quarantine reason."""


def resolve_inside(images_dir: Path, name: str) -> Path:
    """The file `name` inside `images_dir`, or UnsafePath with the reason it may not be read.

    Returns the path as written (images_dir / name, not the symlink target), so
    that the atlas keeps the name the dataset uses.
    """
    if "\x00" in name:
        raise UnsafePath(NUL)
    parts = PurePath(name)
    if parts.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafePath(ABSOLUTE)
    if ".." in parts.parts or ".." in name.replace("\\", "/").split("/"):
        raise UnsafePath(PARENT)
    root = images_dir.resolve()
    path = images_dir / name
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        raise UnsafePath(MISSING) from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise UnsafePath(f"unreadable file name: {exc.__class__.__name__}") from exc
    if not target.is_relative_to(root):
        raise UnsafePath(OUTSIDE)
    if not target.is_file():
        raise UnsafePath(NOT_A_FILE)
    return path
