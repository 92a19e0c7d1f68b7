#!/usr/bin/env bash
# Fashion-MNIST accuracy of the model-zoo presets on the GPU machine, one run after another, each under a time limit.
# Pack first (here):  DEST=/work/main/.device-pack/gpubench DATA=/usr/share/datasets/fashion-mnist tools/device/pack-bench.sh
# Then on the device (carry [".device-pack/gpubench"], this script travels with the checkout):
#   bash tools/device/zoo-accuracy.sh .device-pack/gpubench "vit-tiny-p4:30" "gru-p16:20" ...
# Each argument is PRESET:EPOCHS; every run uses --device cuda --augment --seed 42. Results: $OUT/zoo.tgz + stdout.
set -uo pipefail
D=$1; shift
mkdir -p /tmp/t4j-zoo && tar xJf "$D/pack.tar.xz" -C /tmp/t4j-zoo
P=/tmp/t4j-zoo/pack DATA=/tmp/t4j-zoo/data
mkdir -p "$DATA" && for f in "$D"/data/*.xz; do xz -dc "$f" > "$DATA/$(basename "$f" .xz)"; done
mkdir -p "$OUT/zoo"
for spec in "$@"; do
  model=${spec%%:*} epochs=${spec##*:}
  start=$(date +%s)
  timeout "${RUN_LIMIT_S:-150}" "$P/t4j" train --device cuda --model "$model" --epochs "$epochs" --augment --seed 42 \
    --data-dir "$DATA" --out "/tmp/t4j-zoo/runs/$model" --no-progress > "$OUT/zoo/$model.txt" 2>&1
  rc=$?
  cp "/tmp/t4j-zoo/runs/$model/metrics.csv" "$OUT/zoo/$model.metrics.csv" 2>/dev/null
  echo "$model epochs=$epochs rc=$rc wall=$(( $(date +%s) - start ))s $(grep -E '^test loss' "$OUT/zoo/$model.txt" | tail -1) $(grep -E 'epoch [0-9]+/[0-9]+ +train' "$OUT/zoo/$model.txt" | tail -1 | grep -oE '[0-9]+ img/s')"
done
tar czf "$OUT/zoo.tgz" -C "$OUT" zoo && rm -rf "$OUT/zoo"
