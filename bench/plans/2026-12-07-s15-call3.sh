#!/usr/bin/env bash
# Session 15, device call 3 (issue 12): cuDNN's fused attention with the pip wheel's cuDNN 9.19 (call 1 found only the
# system's 9.14: the wheel's plain libcudnn.so.9 carried no version, fixed by reading include/cudnn_version.h). The
# cuDNN tests, attention alone (own kernels, cuDNN, PyTorch's SDPA eager bf16), then whole bf16 steps own / cuDNN and,
# while time is left, PyTorch compile reduce-overhead bf16 on the same workloads. One archive back.
set -u
cd "$(dirname "$0")/../.."
T0=$(date +%s); left() { echo $(( ${BUDGET_S:-480} - ($(date +%s) - T0) )); }
python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall("/tmp", filter="fully_trusted")' .device-pack/gpubench/pack.tar.xz
P=/tmp/pack J=io.github.transformers4j.bench.gpu.GpuBench
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
timeout 100 $P/t4j info --compile-kernels 2>&1 | grep -v "^WARNING" | tail -1
$P/t4j info 2>&1 | grep -i "cudnn"
CUDNN_LOGLEVEL_DBG=2 CUDNN_LOGDEST_DBG="$OUT/cudnn-api.log" timeout ${TEST_CAP:-120} $P/cuda-tests.sh --include-classname '.*Cudnn.*' > "$OUT/tests.txt" 2>&1
echo "tests rc=$? at $(( $(date +%s) - T0 )) s"
grep -E "✘|tests (successful|failed|found|aborted|skipped)|Assumption|cuDNN 9" "$OUT/tests.txt" | cut -c1-300 | head -40
OK=1; grep -q "✘" "$OUT/tests.txt" && OK=0; grep -q "tests successful" "$OUT/tests.txt" || OK=0
for c in own:false cudnn:true; do
  timeout 45 $P/java.sh -Dt4j.cuda.cudnnAttention=${c#*:} -Dt4j.cuda.cudnnVerbose=true $J --precision bf16 \
    --workloads ${ATTN:-attn,attn512} --iters 20 --out "$OUT/attn-${c%:*}" > "$OUT/attn-${c%:*}.txt" 2>&1
  echo "attention, ${c%:*}: rc=$? at $(( $(date +%s) - T0 )) s"; grep -E "^java |cuDNN" "$OUT/attn-${c%:*}.txt" | cut -c1-170
done
timeout 50 python3 .device-pack/gpubench/torch_bench.py --json "$OUT/torch-attn.json" --workloads attn --variants eager-bf16 2>&1 | grep '"key"' | cut -c1-120
if [ "$OK" = 1 ]; then
  for c in own:false cudnn:true; do
    [ "$(left)" -gt 100 ] || break
    timeout 90 $P/java.sh -Dt4j.cuda.cudnnAttention=${c#*:} $J --precision bf16 --workloads vit1024,s2s,bert,vit128 --iters 30 \
      --out "$OUT/step-${c%:*}" > "$OUT/step-${c%:*}.txt" 2>&1
    echo "steps, ${c%:*}: rc=$? at $(( $(date +%s) - T0 )) s"; grep -E "^java " "$OUT/step-${c%:*}.txt" | cut -c1-170
  done
fi
if [ "$(left)" -gt 150 ]; then
  timeout $(( $(left) - 20 )) $P/java.sh $J --no-java --workloads vit1024,s2s,bert,vit128 --torch .device-pack/gpubench/torch_bench.py \
    --torch-variants compile-ro-bf16 --torch-budget-s $(( $(left) - 40 )) --out "$OUT/torch" > "$OUT/torch.txt" 2>&1
  grep -E "^\| |skipped|compile-ro" "$OUT/torch.txt" | cut -c1-200 | head -24; echo "torch at $(( $(date +%s) - T0 )) s"
fi
cd "$OUT" && tar czf ../call3.tgz . && find . -mindepth 1 -delete && mv ../call3.tgz .
