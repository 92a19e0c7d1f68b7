#!/usr/bin/env bash
# The side-by-side GPU harness as ONE command on the GPU machine (a pack made by tools/device/pack-bench.sh sits
# next to this script): the Java engine (fp32) and PyTorch (eager fp32, eager bf16 autocast, torch.compile bf16,
# torch.compile reduce-overhead bf16) on the same workloads, one table of throughputs and ratios at the end.
#
#   bash .device-pack/gpubench/gpu-bench.sh [GpuBench options, e.g. --workloads vit128,bert --profile --check]
#
# Environment: OUT (logs and JSON; default /tmp/out), TESTS=1 runs the @Tag("cuda") tests first,
# TRAIN="t4j train arguments" runs a training run afterwards (data: DIR/data/*.xz, unpacked to raw IDX), TORCH=0 skips PyTorch.
set -uo pipefail
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
# python's tarfile and lzma: no dependence on an xz binary there
python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall("/tmp", filter="fully_trusted")' "$D/pack.tar.xz" || exit 1
P=/tmp/pack
DATA=/tmp/t4j-data
if [ -d "$D/data" ]; then
  mkdir -p "$DATA"
  for f in "$D"/data/*.xz; do
    python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$f" "$DATA/$(basename "$f" .xz)"
  done
fi
nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader
"$P/t4j" info 2>&1 | grep -v "^WARNING"
if [ "${TESTS:-0}" = 1 ]; then
  start=$(date +%s)
  "$P/cuda-tests.sh" > "$OUT/tests.txt" 2>&1
  echo "cuda tests rc=$? in $(( $(date +%s) - start )) s"
  grep -E "✘|tests (successful|failed|found|aborted)" "$OUT/tests.txt" | cut -c1-300 | head -40
fi
ARGS=("$@")
[ "${TORCH:-1}" = 1 ] && ARGS+=(--torch "$D/torch_bench.py")
"$P/java.sh" io.github.transformers4j.bench.gpu.GpuBench --out "$OUT" "${ARGS[@]}" 2>&1 | grep -v "^WARNING" | tee "$OUT/bench.txt"
if [ -n "${TRAIN:-}" ]; then
  # shellcheck disable=SC2086
  # the run folder stays on the machine (checkpoints are large); its log and metrics come back
  "$P/t4j" train $TRAIN --data-dir "$DATA" --out /tmp/t4j-run --no-progress 2>&1 | grep -v "^WARNING" > "$OUT/train.txt"
  echo "train rc=$?"
  cp /tmp/t4j-run/metrics.csv "$OUT/train_metrics.csv" 2>/dev/null
  grep -E "epoch|test loss|parameters|training" "$OUT/train.txt" | cut -c1-250
fi
