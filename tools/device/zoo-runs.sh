#!/usr/bin/env bash
# Training runs on the GPU machine from a plan file: the model-zoo recipes (issue 17) and acceptance runs.
# Pack first (here):  DEST=/work/main/.device-pack/gpubench DATA=/usr/share/datasets/fashion-mnist tools/device/pack-bench.sh
# On the device (carry [".device-pack/gpubench"]; this script and the plan travel with the checkout):
#   BUDGET_S=560 bash tools/device/zoo-runs.sh .device-pack/gpubench bench/plans/PLAN.txt
# A plan line is "LANE NAME t4j-command options...", e.g.
#   first  fp32-eager  train --model vit-tiny-p4 --epochs 10 --no-cuda-graphs
#   a      tiny-s1     train --model vit-tiny-p4 --epochs 100 --precision bf16 --seed 1
#   b      mae-pre     pretrain --model mae-tiny --epochs 100 --precision bf16
#   b      mae-probe   train --model mae-tiny --init-from {runs}/mae-pre/checkpoints/last.safetensors --freeze-encoder
# Lane "first" runs alone before the others (timings without a neighbour; it also fills the kernel cache); then every
# other lane runs in parallel, its lines one after another. Each run gets --device cuda --data-dir DATA --out
# {runs}/NAME --no-progress. Nothing runs past BUDGET_S (seconds from the start): a run still going then is stopped,
# what it wrote is kept. Results: $OUT/zoo.tgz (per run: stdout, config.json, metrics.csv, test_report.txt, PNGs) and
# one summary line per run on stdout. DEVICE=cpu tries a plan out here (after the pack).
set -uo pipefail
D=$1 PLAN=$2
T0=$(date +%s)
BUDGET_S=${BUDGET_S:-560}
left() { echo $(( BUDGET_S - ($(date +%s) - T0) )); }
unxz() { python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; }
python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall("/tmp", filter="fully_trusted")' "$D/pack.tar.xz" || exit 1
P=/tmp/pack DATA=/tmp/t4j-data RUNS=/tmp/zoo-runs Z=$OUT/zoo
mkdir -p "$DATA" "$RUNS" "$Z"
for f in "$D"/data/*.xz; do unxz "$f" "$DATA/$(basename "$f" .xz)"; done
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$Z/gpu.txt"
cp "$PLAN" "$Z/plan.txt"
# every kernel file compiled side by side into the kernel cache before the first run (PRECOMPILE=0 skips it)
[ "${PRECOMPILE:-1}" = 1 ] && [ "${DEVICE:-cuda}" != cpu ] && timeout 150 "$P/t4j" info --compile-kernels > "$Z/compile-kernels.txt" 2>&1
[ -f "$Z/compile-kernels.txt" ] && tail -1 "$Z/compile-kernels.txt"
trap 'tar czf "$OUT/zoo.tgz" -C "$OUT" zoo' EXIT

run() { # LANE NAME COMMAND OPTIONS...
  local lane=$1 name=$2; shift 2
  local budget; budget=$(left)
  if [ "$budget" -lt 20 ]; then echo "$name: not started, $budget s left"; return; fi
  local args=() a
  for a in "$@"; do args+=("${a//\{runs\}/$RUNS}"); done
  local start; start=$(date +%s)
  timeout "$budget" "$P/t4j" "${args[@]}" --device "${DEVICE:-cuda}" --data-dir "$DATA" --out "$RUNS/$name" --no-progress \
    < /dev/null > "$Z/$name.txt" 2>&1
  local rc=$? f
  mkdir -p "$Z/$name"
  for f in config.json metrics.csv test_report.txt reconstruction.png confusion_matrix.png accuracy.png loss.png; do
    [ -f "$RUNS/$name/$f" ] && cp "$RUNS/$name/$f" "$Z/$name/"
  done
  local last; last=$(grep -E 'epoch +[0-9]+/[0-9]+ ' "$Z/$name.txt" | tail -1 | grep -oE 'epoch +[0-9]+/[0-9]+|[0-9.]+ s +[0-9]+ (img|tok)/s' | tr '\n' ' ')
  echo "$name [$lane] rc=$rc wall=$(( $(date +%s) - start ))s at=$(( $(date +%s) - T0 ))s last: $last| $(grep -E '^test loss' "$Z/$name.txt" | tail -1)"
}

lane() { # runs every plan line of lane $1 in order
  local want=$1 l n rest
  while read -r l n rest; do
    [ -z "${l:-}" ] || [ "${l:0:1}" = "#" ] || [ "$l" != "$want" ] && continue
    # shellcheck disable=SC2086
    eval "set -- $rest"
    run "$l" "$n" "$@"
  done < "$PLAN"
}

lane first
for l in $(awk '!/^#/ && NF && $1 != "first" {print $1}' "$PLAN" | awk '!seen[$0]++'); do
  lane "$l" &
done
wait
echo "all lanes done at $(( $(date +%s) - T0 )) s"
