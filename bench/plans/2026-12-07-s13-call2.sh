#!/usr/bin/env bash
# Session 13, device call 2 (never ran, as call 1), on the machine of call 1: attention alone on a quiet GPU first (issue 12: the own flash
# kernels, cuDNN's fused attention, PyTorch's SDPA in eager bf16, one after the other), then issue 17's last run.
set -u
cd "$(dirname "$0")/../.."
T0=$(date +%s)
python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall("/tmp", filter="fully_trusted")' .device-pack/gpubench/pack.tar.xz
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
J=io.github.transformers4j.bench.gpu.GpuBench
for c in own:false cudnn:true; do
  timeout 70 /tmp/pack/java.sh -Dt4j.cuda.cudnnAttention=${c#*:} -Dt4j.cuda.cudnnVerbose=true $J --precision bf16 \
    --workloads attn,attn512 --iters 30 --out "$OUT/attn-${c%:*}" > "$OUT/attn-${c%:*}.txt" 2>&1
  echo "attention, ${c%:*}: rc=$? at $(( $(date +%s) - T0 )) s"; grep -E "^java |cuDNN" "$OUT/attn-${c%:*}.txt" | cut -c1-200
done
timeout 70 python3 .device-pack/gpubench/torch_bench.py --json "$OUT/torch-attn.json" --workloads attn --variants eager-bf16 2>&1 | grep '"key"' | cut -c1-160
echo "attention done at $(( $(date +%s) - T0 )) s"
BUDGET_S=$(( ${BUDGET_S:-560} - ($(date +%s) - T0) )) PRECOMPILE=0 bash tools/device/zoo-runs.sh .device-pack/gpubench bench/plans/2026-12-07-s13-call2.txt
cd "$OUT" && tar czf ../call2.tgz . && find . -mindepth 1 -delete && mv ../call2.tgz .
