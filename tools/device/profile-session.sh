#!/bin/bash
# One device call that says where the step's device time goes (pack-bench.sh copies this next to the pack): the
# @Tag("cuda") tests, the bf16 harness with --profile (device time per kind of op, every workload), then
# torch.profiler's kernel table of PyTorch's compiled bf16 step for each workload. Everything under $OUT.
#   BUDGET=540 bash .device-pack/gpubench/profile-session.sh
set -u
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
T0=$(date +%s); left() { echo $(( ${BUDGET:-570} - ($(date +%s) - T0) )); }
cap() { local l=$(( $(left) - 15 )); [ "$l" -lt "$1" ] && echo "$l" || echo "$1"; }
python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall("/tmp", filter="fully_trusted")' "$D/pack.tar.xz" || exit 1
P=/tmp/pack; J=io.github.transformers4j.bench.gpu.GpuBench
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
if [ "${TESTS:-1}" = 1 ]; then
  timeout $(cap 150) "$P/cuda-tests.sh" > "$OUT/tests.txt" 2>&1; echo "cuda tests rc=$? at $(( $(date +%s) - T0 )) s"
  grep -E "✘|tests (successful|failed|found|aborted)" "$OUT/tests.txt" | cut -c1-300 | head -30
fi
timeout $(cap 200) "$P/java.sh" ${JFLAGS:-} $J --precision bf16 --workloads ${WORKLOADS:-vit128,vit1024,bert,s2s} --iters 20 --profile \
  --out "$OUT" 2>&1 | grep -v "^WARNING" > "$OUT/java-profile.txt"
cat "$OUT/java-profile.txt" | cut -c1-220; echo "at $(( $(date +%s) - T0 )) s"
for w in ${TORCH_WORKLOADS:-vit1024 s2s bert vit128}; do
  [ "$(left)" -gt 75 ] || break
  timeout $(cap 120) python3 "$D/torch_profile.py" --workload $w --variant compile-bf16 --top 28 > "$OUT/torch-$w.txt" 2>&1
  grep -v Warning "$OUT/torch-$w.txt" | tail -30 | cut -c1-200; echo "at $(( $(date +%s) - T0 )) s"
done
echo "done at $(( $(date +%s) - T0 )) s"
