"""A metadata file name may only reach files inside the images folder (skinmap.ingest.paths)."""
from __future__ import annotations

import os

import pytest

from skinmap.ingest import paths


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"x")
    (folder / "sub" / "b.jpg").write_bytes(b"x")
    (tmp_path / "secret.jpg").write_bytes(b"x")
    os.symlink(folder / "sub" / "b.jpg", folder / "inside_link.jpg")
    os.symlink(tmp_path / "secret.jpg", folder / "outside_link.jpg")
    os.symlink(tmp_path, folder / "sub" / "up")
    (folder / "dir.jpg").mkdir()
    return folder


def test_names_inside_the_folder_resolve_as_written(images):
    assert paths.resolve_inside(images, "a.jpg") == images / "a.jpg"
    assert paths.resolve_inside(images, "sub/b.jpg") == images / "sub" / "b.jpg"
    assert paths.resolve_inside(images, "inside_link.jpg") == images / "inside_link.jpg"  # a link within is fine


@pytest.mark.parametrize("name, reason", [
    ("../secret.jpg", paths.PARENT), ("sub/../../secret.jpg", paths.PARENT), ("sub/../a.jpg", paths.PARENT),
    ("..\\secret.jpg", paths.PARENT), ("/etc/passwd", paths.ABSOLUTE), ("\\\\server\\share\\x.jpg", paths.ABSOLUTE),
    ("C:\\x.jpg", paths.ABSOLUTE), ("outside_link.jpg", paths.OUTSIDE), ("sub/up/secret.jpg", paths.OUTSIDE),
    ("dir.jpg", paths.NOT_A_FILE), ("nope.jpg", paths.MISSING), ("a\x00.jpg", paths.NUL),
])
def test_names_that_leave_the_folder_are_refused_with_the_reason(images, name, reason):
    with pytest.raises(paths.UnsafePath) as refused:
        paths.resolve_inside(images, name)
    assert str(refused.value) == reason


def test_an_absolute_name_is_refused_even_inside_the_folder(images):
    with pytest.raises(paths.UnsafePath, match="absolute"):
        paths.resolve_inside(images, str(images / "a.jpg"))
