#!/bin/bash
# Nsight Compute (ncu, on the device image) over the GPU harness's kernels: stall reasons, occupancy, throughput per
# kernel, where CUDA events only give a step's total. Carry the DEST folder of pack-bench.sh; on the device:
#   WORKLOADS=attn257 KERNELS='regex:flash_attn' COUNT=4 bash .device-pack/gpubench/ncu-kernels.sh
# KERNELS: ncu's --kernel-name filter; COUNT kernels are profiled after SKIP matching launches; SECTIONS: ncu sections
# (default: throughput, occupancy, launch, warp states, scheduler); the text report goes to $OUT/ncu-$WORKLOADS.txt.
# Clocks are left alone (--clock-control none, METHOD.md). The harness runs with its usual flags plus JAVA_FLAGS.
set -u
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -d /tmp/pack ] || python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall("/tmp", filter="fully_trusted")' "$D/pack.tar.xz" || exit 1
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
[ -n "$NCU" ] || { echo "ncu not found"; exit 1; }
W=${WORKLOADS:-attn257}
S=""; for s in ${SECTIONS:-SpeedOfLight Occupancy LaunchStats WarpStateStats SchedulerStats}; do S="$S --section $s"; done
# shellcheck disable=SC2086
timeout ${CAP:-150} "$NCU" --clock-control none --kernel-name "${KERNELS:-regex:flash_attn}" --launch-skip ${SKIP:-0} --launch-count ${COUNT:-4} $S \
  /tmp/pack/java.sh ${JAVA_FLAGS:-} io.github.transformers4j.bench.gpu.GpuBench --precision bf16 --workloads "$W" --warmup 2 --iters 3 \
  --out /tmp/ncu-bench > "$OUT/ncu-$W.txt" 2>&1
echo "ncu $W rc=$?"
