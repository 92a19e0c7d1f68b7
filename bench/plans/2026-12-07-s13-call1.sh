#!/usr/bin/env bash
# Session 13, device call 1: issue 17's runs (the plan beside this file) in the background, and meanwhile the first
# look at cuDNN's fused attention (issue 12): what cuDNN the machine has and how PyTorch builds its graph
# (tools/device/cudnn-probe.sh), the cuDNN and own-kernel attention tests, then the attention benchmark with and
# without cuDNN and PyTorch's SDPA. The benchmarks share the GPU with the training runs: indicative, not the table.
set -u
cd "$(dirname "$0")/../.."
T0=$(date +%s)
(timeout 150 bash tools/device/cudnn-probe.sh > "$OUT/probe.txt" 2>&1) &
BUDGET_S=${BUDGET_S:-550} bash tools/device/zoo-runs.sh .device-pack/gpubench bench/plans/2026-12-07-s13-call1.txt > "$OUT/zoo.txt" 2>&1 &
ZOO=$!
while [ ! -s "$OUT/zoo/compile-kernels.txt" ] && [ $(( $(date +%s) - T0 )) -lt 90 ]; do sleep 2; done
sleep 5; while pgrep -f "compile-kernels" > /dev/null && [ $(( $(date +%s) - T0 )) -lt 120 ]; do sleep 2; done
echo "tests start at $(( $(date +%s) - T0 )) s"
CUDNN_LOGLEVEL_DBG=2 CUDNN_LOGDEST_DBG="$OUT/cudnn-api.log" timeout 200 /tmp/pack/cuda-tests.sh \
  --include-classname '.*(CudnnAttention|FlashAttention).*' > "$OUT/tests.txt" 2>&1
echo "tests rc=$? at $(( $(date +%s) - T0 )) s"
grep -E "✘|tests (successful|failed|found|aborted)|cuDNN" "$OUT/tests.txt" | cut -c1-400 | head -40
J=io.github.transformers4j.bench.gpu.GpuBench
for c in own:false cudnn:true; do
  timeout 60 /tmp/pack/java.sh -Dt4j.cuda.cudnnAttention=${c#*:} -Dt4j.cuda.cudnnVerbose=true $J --precision bf16 \
    --workloads attn,attn512 --iters 20 --out "$OUT/attn-${c%:*}" > "$OUT/attn-${c%:*}.txt" 2>&1
  echo "attention, ${c%:*}: rc=$? at $(( $(date +%s) - T0 )) s"; grep -E "^java |cuDNN" "$OUT/attn-${c%:*}.txt" | cut -c1-200
done
timeout 60 python3 .device-pack/gpubench/torch_bench.py --json "$OUT/torch-attn.json" --workloads attn --variants eager-bf16 2>&1 | grep '"key"' | cut -c1-160
wait $ZOO; cat "$OUT/zoo.txt" | tail -5; wait
cat "$OUT/probe.txt"
# one archive back (the device tool returns few files)
cd "$OUT" && tar czf ../call1.tgz . && find . -mindepth 1 -delete && mv ../call1.tgz .
