#!/usr/bin/env bash
# Not yet run (session 16 had no device time left to start a machine). Session 16, device call 5 (issue 12's last acceptance line, vit-tiny-p4 half): the same 30-epoch bf16 run with the
# fused attention (the own flash kernels: 65 tokens) and with the materialised path (-Dt4j.cuda.flashAttention=false),
# each alone on the GPU; accuracy, validation loss and seconds per epoch from each run's metrics.
set -u
cd "$(dirname "$0")/../.."
PLAN=bench/plans/2026-12-08-s16-call5.txt
BUDGET_S=${BUDGET_S:-110} bash tools/device/zoo-runs.sh .device-pack/gpubench $PLAN
mv "$OUT/zoo.tgz" "$OUT/flash.tgz"
sed 's/tiny-flash/tiny-materialised/' $PLAN > /tmp/plan-m.txt
JAVA_TOOL_OPTIONS=-Dt4j.cuda.flashAttention=false PRECOMPILE=0 BUDGET_S=${BUDGET_S:-110} bash tools/device/zoo-runs.sh .device-pack/gpubench /tmp/plan-m.txt
mv "$OUT/zoo.tgz" "$OUT/materialised.tgz"
