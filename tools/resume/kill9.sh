#!/usr/bin/env bash
# Crash-resume check: a small training run killed with SIGKILL at random moments (mid-step, mid-evaluation, mid-checkpoint
# write), resumed with --resume after each kill, must end with the metrics.csv of the same run left alone (bit for bit on
# the CPU), with every checkpoint readable along the way. Issue 15's acceptance; not part of `./t4j test` (minutes).
#
#   KILLS=20 tools/resume/kill9.sh [OUT_DIR]        (JAVA_HOME of a JDK 25; the CLI built: ./t4j --help once)
#   EXTRA="--save-steps 5 --eval-steps 8 --gradient-accumulation 2" tools/resume/kill9.sh    (mid-epoch checkpoints:
#   a resume then continues inside an epoch; the options go to both runs). SLEEP="3 18": the range in seconds between a
#   start and its kill (run it alone on the machine: with other work beside it an epoch outlasts the range, and runs
#   die before their first checkpoint)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T4J="$ROOT/t4j"
OUT=${1:-/tmp/t4j-kill9}
KILLS=${KILLS:-20}
ARGS=(--model vit-mini-p4 --dataset fashion-mnist --epochs 3 --limit-train 1536 --limit-test 512 --batch-size 64 --threads 1 --seed 42 ${EXTRA:-})
case "$OUT" in
  -*) echo "usage: KILLS=N tools/resume/kill9.sh [OUT_DIR]   (default /tmp/t4j-kill9)"; exit 2 ;;
esac
# OUT_DIR is deleted and made anew: only an empty folder or one this script made before
if [ -e "$OUT" ] && [ ! -f "$OUT/.kill9" ] && [ -n "$(ls -A "$OUT" 2>/dev/null)" ]; then
  echo "kill9.sh: $OUT exists and was not made by this script; give another OUT_DIR"; exit 2
fi
rm -rf "$OUT" && mkdir -p "$OUT" && touch "$OUT/.kill9"
"$T4J" train "${ARGS[@]}" --out "$OUT/ref" > "$OUT/ref.log" 2>&1 || { echo "reference run failed: $OUT/ref.log"; exit 1; }
RANDOM=7
kills=0 unreadable=0 starts=0
while :; do
  if [ $starts -eq 0 ]; then cmd=(train "${ARGS[@]}" --out "$OUT/run"); else cmd=(train --out "$OUT/run" --resume --threads 1); fi
  starts=$((starts + 1))
  "$T4J" "${cmd[@]}" >> "$OUT/run.log" 2>&1 &
  pid=$!
  if [ $kills -lt "$KILLS" ]; then
    read -r lo hi <<< "${SLEEP:-3 18}"
    sleep "$(( RANDOM % (hi - lo) + lo )).$(( RANDOM % 10 ))"  # 3 to 18 s: an epoch takes about 10 s here, so runs get killed mid-epoch, mid-evaluation and mid-checkpoint, and still progress
    if kill -0 $pid 2>/dev/null; then
      pkill -9 -P $pid 2>/dev/null; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
      kills=$((kills + 1))
      last=$(python3 -c 'import sys,json,struct; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; m=json.loads(b[8:8+n])["__metadata__"]; print("checkpoint: step", m["global_step"], "epoch", m["epoch"], "done" if m.get("epoch_done","true")=="true" else "at batch "+m.get("batches_done","?"))' "$OUT/run/checkpoints/last.safetensors" 2>/dev/null || echo "no checkpoint yet")
      echo "kill $kills after start $starts ($last): $(tail -c 300 "$OUT/run.log" | tr '\r' '\n' | grep -v '^$' | tail -1 | cut -c1-100)"
      for ck in "$OUT"/run/checkpoints/*.safetensors; do
        [ -f "$ck" ] || continue
        python3 - "$ck" <<'PY' || { unreadable=$((unreadable + 1)); echo "UNREADABLE: $ck"; }
import json, struct, sys, os
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
end = max(v['data_offsets'][1] for k, v in h.items() if k != '__metadata__')
assert 8 + n + end == len(b), 'size'
PY
      done
      continue
    fi
  fi
  wait $pid; rc=$?
  [ $rc -eq 0 ] && break
  echo "run exited with $rc after $kills kills (see $OUT/run.log)"; exit 1
done
echo "kills: $kills, starts: $starts, unreadable checkpoints seen: $unreadable"
if cmp -s "$OUT/ref/metrics.csv" "$OUT/run/metrics.csv"; then
  echo "metrics.csv identical to the uninterrupted run ($(wc -l < "$OUT/run/metrics.csv") lines)"
else
  echo "metrics.csv DIFFERS:"; diff "$OUT/ref/metrics.csv" "$OUT/run/metrics.csv" | head -20; exit 1
fi
[ $unreadable -eq 0 ]
