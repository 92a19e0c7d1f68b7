#!/bin/bash
# One whole device call within a time budget (pack-bench.sh copies this next to the pack): the @Tag("cuda") tests; the
# bf16 harness with captured steps (the default configuration); PyTorch reduce-overhead bf16; the harness with the
# opt-in kernels, flash attention and the fused cross-entropy (each unless its tests failed; FLASH=0 skips the run); a profile last (with them; its table printed), each
# while time is left. Everything under $OUT. PROFILE=vit128,... picks the profiled workloads; AFTER_TORCH=s the time
# kept for what follows PyTorch; TORCH_PROFILE="vit1024 s2s" adds torch.profiler's kernel tables (bench/python/torch_profile.py). BUDGET = seconds this script may use
# (leave the machine's start, a minute or two, out of it). TESTS=0 skips the tests, JAVA=0 the Java harness runs,
# PROFILE=0 the profile, TORCH=0 PyTorch, NOFLASH=0 the default configuration's run; TRAIN="t4j train options" runs one
# training run after the tests (flash on when its tests passed; --data-dir is the packed Fashion-MNIST, pack with DATA=).
# CPU=1 adds the CPU training step against PyTorch's on the same two cores (issue 18), last. The results come back
# as one archive, $OUT/results.tgz (the device tool returns at most 8 files).
# On the device (carry the DEST folder of pack-bench.sh):
#   BUDGET=540 bash .device-pack/gpubench/bench-session.sh
set -u
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
T0=$(date +%s); left() { echo $(( ${BUDGET:-570} - ($(date +%s) - T0) )); }
cap() { local l=$(( $(left) - 15 )); [ "$l" -lt "$1" ] && echo "$l" || echo "$1"; }
python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall("/tmp", filter="fully_trusted")' "$D/pack.tar.xz" || exit 1
P=/tmp/pack; J=io.github.transformers4j.bench.gpu.GpuBench; W=${WORKLOADS:-vit128,vit1024,bert,s2s}  # WORKLOADS=...,attn adds attention
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
# every kernel file compiled side by side into the kernel cache first (PRECOMPILE=0 skips it): the tests and runs then load them
[ "${PRECOMPILE:-1}" = 1 ] && timeout 150 "$P/t4j" info --compile-kernels 2>&1 | grep -v "^WARNING" | tail -1
# TESTS_FILTER=regex: only the test classes whose name matches (JUnit's --include-classname); TEST_CAP: seconds. On a
# fresh machine NVRTC compiles every kernel first: 268 tests took over 140 s there and 72 s on a warm one (session 10),
# and a run cut by its cap prints no summary, so leave room
if [ "${TESTS:-1}" = 1 ]; then
  timeout ${TEST_CAP:-210} "$P/cuda-tests.sh" ${TESTS_FILTER:+--include-classname "$TESTS_FILTER"} > "$OUT/tests.txt" 2>&1
  echo "cuda tests rc=$? at $(( $(date +%s) - T0 )) s"
  grep -E "✘|tests (successful|failed|found|aborted)" "$OUT/tests.txt" | cut -c1-300 | head -30
else
  : > "$OUT/tests.txt"
fi
# the opt-in kernels (flash attention, the fused cross-entropy), each unless its tests failed
FLAG=""
# (each switched on explicitly, whatever the defaults)
if grep "✘" "$OUT/tests.txt" | grep -qi flash; then echo "flash tests failed: no flash run"; else FLAG="-Dt4j.cuda.flashAttention=true -Dt4j.cuda.flashCausal=true"; fi
if grep "✘" "$OUT/tests.txt" | grep -qi crossentropy; then echo "cross-entropy tests failed"; else FLAG="$FLAG -Dt4j.cuda.fusedCrossEntropy=true"; fi
[ "${FLASH:-1}" = 0 ] && FLAG=""  # FLASH=0: one harness run, the default configuration only
mkdir -p "$OUT/flash" "$OUT/noflash" "$OUT/torch" "$OUT/profile"
# the default configuration (no flash) first, then PyTorch, then flash attention and a profile while time is left
noflash() {  # the default configuration (NOFLASH=0 skips it)
  [ "${JAVA:-1}" = 1 ] && [ "${NOFLASH:-1}" = 1 ] && [ "$(left)" -gt 60 ] || return
  timeout $(cap ${JAVA_CAP:-110}) "$P/java.sh" $J --precision bf16 --workloads $W --iters 30 --out "$OUT/noflash" 2>&1 | grep -v "^WARNING" > "$OUT/noflash/bench.txt"
  grep "^java " "$OUT/noflash/bench.txt" | cut -c1-250; echo "default configuration at $(( $(date +%s) - T0 )) s"
}
[ "${FLASH_FIRST:-0}" = 1 ] || noflash  # FLASH_FIRST=1: the opt-in kernels' run first, the default one after it
if [ "${TORCH:-1}" = 1 ] && [ "$(left)" -gt 120 ]; then
  timeout $(cap 400) "$P/java.sh" $J --no-java --workloads $W --torch "$D/torch_bench.py" --torch-variants compile-ro-bf16 \
    --torch-budget-s $(( $(left) - ${AFTER_TORCH:-100} )) --out "$OUT/torch" 2>&1 | grep -v "^WARNING" > "$OUT/torch/bench.txt"
  grep -E "^\| |skipped|compile-ro" "$OUT/torch/bench.txt" | cut -c1-200 | head -24; echo "at $(( $(date +%s) - T0 )) s"
  # PyTorch's attention (issue 12): F.scaled_dot_product_attention in eager bf16, its own kernel choice
  if [[ ",$W," == *,attn,* ]] && [ "$(left)" -gt $(( ${AFTER_TORCH:-100} + 30 )) ]; then
    timeout $(cap 90) python3 "$D/torch_bench.py" --json "$OUT/torch/attn.json" --workloads attn --variants eager-bf16 2>&1 \
      | grep -E '"key"' | cut -c1-160
  fi
fi
if [ "${JAVA:-1}" = 1 ] && [ -n "$FLAG" ] && [ "$(left)" -gt 60 ]; then
  timeout $(cap ${JAVA_CAP:-110}) "$P/java.sh" $FLAG $J --precision bf16 --workloads $W --iters 30 --out "$OUT/flash" 2>&1 | grep -v "^WARNING" > "$OUT/flash/bench.txt"
  grep "^java " "$OUT/flash/bench.txt" | cut -c1-120; echo "opt-in kernels ($FLAG) at $(( $(date +%s) - T0 )) s"
fi
[ "${FLASH_FIRST:-0}" = 1 ] && noflash
if [ -n "${TRAIN:-}" ]; then
  mkdir -p /tmp/data && for f in "$D"/data/*.xz; do xz -dc "$f" > "/tmp/data/$(basename "$f" .xz)"; done
  # shellcheck disable=SC2086
  [ "$(left)" -gt 60 ] && timeout $(cap ${TRAIN_CAP:-120}) "$P/java.sh" $FLAG io.github.transformers4j.cli.T4j train $TRAIN --data-dir /tmp/data --out /tmp/run \
    --no-progress > "$OUT/train.txt" 2>&1
  echo "train rc=$? at $(( $(date +%s) - T0 )) s"; grep -vE "^WARNING" "$OUT/train.txt" | tail -16 | cut -c1-200
  cp /tmp/run/metrics.csv "$OUT/train-metrics.csv" 2>/dev/null
fi
if [ "${PROFILE:-vit1024,s2s}" != 0 ] && [ "$(left)" -gt 40 ]; then
  timeout $(cap 200) "$P/java.sh" $FLAG $J --precision bf16 --workloads ${PROFILE:-vit1024,s2s} --iters 10 --profile --out "$OUT/profile" 2>&1 \
    | grep -v "^WARNING" > "$OUT/profile/bench.txt"
  cut -c1-200 "$OUT/profile/bench.txt" | grep -v "^java .*step .*ms (min" | head -150
fi
for w in ${TORCH_PROFILE:-}; do  # TORCH_PROFILE="vit1024 s2s": torch.profiler's kernel table of PyTorch's compiled step
  [ "$(left)" -gt 75 ] || break
  timeout $(cap 120) python3 "$D/torch_profile.py" --workload $w --variant compile-bf16 --top 28 > "$OUT/profile/torch-$w.txt" 2>&1
  grep -v Warning "$OUT/profile/torch-$w.txt" | tail -30 | cut -c1-200
done
# CPU=1: issue 18's side by side on the machine's CPU (bench/cpu-vs-torch.sh: our training step and PyTorch's, same
# models, pinned to cores 0 and 1, 2 threads each, alternated twice)
if [ "${CPU:-0}" = 1 ] && [ "$(left)" -gt 120 ]; then
  JAVA_CMD="$P/java.sh" PYTHON=python3 OUTFILE="$OUT/cpu-step.txt" timeout $(cap 300) bash bench/cpu-vs-torch.sh
fi
# the device tool brings back at most 8 files: everything goes back as one archive
(cd "$OUT" && tar czf /tmp/results.tgz --exclude=results.tgz . && find . -mindepth 1 -delete && mv /tmp/results.tgz results.tgz)
echo "done at $(( $(date +%s) - T0 )) s"
