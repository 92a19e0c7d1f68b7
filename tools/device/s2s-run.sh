#!/usr/bin/env bash
# The summarizer's GPU training run on the Debian corpus (issue 8), then, in the time left, model-zoo accuracy runs.
# Pack first (here):
#   mkdir -p .device-pack/s2s/corpus; for f in train validation test; do xz -c DIR/$f.jsonl > .device-pack/s2s/corpus/$f.jsonl.xz; done
#   xz -c tokenizer.json > .device-pack/s2s/corpus/tokenizer.json.xz
#   DEST=/work/main/.device-pack/s2s DATA=/usr/share/datasets/fashion-mnist tools/device/pack-bench.sh
# On the device (carry [".device-pack/s2s"]):  bash tools/device/s2s-run.sh .device-pack/s2s [PRESET:EPOCHS ...]
# Environment: BUDGET_S (whole script, default 560), S2S_MINUTES (training time limit, default 5.5), S2S_ARGS (extra
# t4j train arguments); DEVICE=cpu S2S_MODEL=summarizer-tiny try the script out without a GPU. Results under $OUT.
set -uo pipefail
D=$1; shift
T0=$(date +%s)
BUDGET_S=${BUDGET_S:-560}
left() { echo $(( BUDGET_S - ($(date +%s) - T0) )); }
unxz() { python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; }
python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall("/tmp", filter="fully_trusted")' "$D/pack.tar.xz" || exit 1
P=/tmp/pack CORPUS=/tmp/corpus DATA=/tmp/t4j-data RUN=/tmp/runs/summarizer-4x512
mkdir -p "$CORPUS" "$DATA" "$OUT"
for f in "$D"/corpus/*.xz; do unxz "$f" "$CORPUS/$(basename "$f" .xz)"; done
for f in "$D"/data/*.xz; do unxz "$f" "$DATA/$(basename "$f" .xz)"; done
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$OUT/gpu.txt"

# 1. summarizer-4x512: batches of 64 grouped by length, lr 3e-4 (batch 4x the recipe's 16), 10% warm-up, linear decay
"$P/t4j" train --device "${DEVICE:-cuda}" --model "${S2S_MODEL:-summarizer-4x512}" --dataset "jsonl:$CORPUS" --max-source-length 256 --max-target-length 48 \
  --batch-size 64 --lr 3e-4 --epochs 10 --time-limit "${S2S_MINUTES:-5.5}" --limit-eval 0 --beam-size 4 --workers 8 --no-progress \
  --out "$RUN" ${S2S_ARGS:-} > "$OUT/s2s-train.txt" 2>&1
echo "summarizer rc=$? after $(( $(date +%s) - T0 )) s"
grep -E "epoch [0-9]+/|time limit|^model:|^lead|^loss|^generation" "$OUT/s2s-train.txt" | cut -c1-250
if [ ! -f "$RUN/rouge.json" ] && [ -f "$RUN/checkpoints/best.safetensors" ]; then
  # the GPU test pass failed: score the best checkpoint on the CPU cores instead (greedy, as many pairs as time allows)
  timeout $(( $(left) - 20 )) "$P/t4j" eval --checkpoint "$RUN/checkpoints/best.safetensors" --metric rouge --split test \
    --device cpu --beam-size 1 --limit 1000 > "$OUT/s2s-eval-cpu.txt" 2>&1
  echo "cpu eval rc=$?"; grep -E "^model:|^lead" "$OUT/s2s-eval-cpu.txt"
fi
(cd "$RUN" && tar czf "$OUT/s2s-run.tgz" --exclude=checkpoints .)

# 2. zoo presets, each under the time left
for spec in "$@"; do
  model=${spec%%:*} epochs=${spec##*:} limit=$(( $(left) - 10 ))
  [ "$limit" -lt 30 ] && { echo "$model: skipped, $limit s left"; continue; }
  start=$(date +%s)
  timeout "$limit" "$P/t4j" train --device "${DEVICE:-cuda}" --model "$model" --epochs "$epochs" --augment --seed 42 \
    --data-dir "$DATA" --out "/tmp/runs/$model" --no-progress > "$OUT/zoo-$model.txt" 2>&1
  rc=$?
  cp "/tmp/runs/$model/metrics.csv" "$OUT/zoo-$model.metrics.csv" 2>/dev/null
  echo "$model epochs=$epochs rc=$rc wall=$(( $(date +%s) - start ))s $(grep -E '^test loss' "$OUT/zoo-$model.txt" | tail -1)"
done
cd "$OUT" && ls zoo-* >/dev/null 2>&1 && tar czf zoo.tgz zoo-* && rm -f zoo-*
echo "done after $(( $(date +%s) - T0 )) s"
