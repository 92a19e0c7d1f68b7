#!/bin/bash
# Nsight Compute (ncu, on the device image) over the GPU harness's kernels: stall reasons, occupancy, throughput per
# kernel, where CUDA events only give a step's total. Carry the DEST folder of pack-bench.sh; on the device:
#   WORKLOADS=attn257 KERNELS='regex:flash_attn' COUNT=4 bash .device-pack/gpubench/ncu-kernels.sh
#   DURATIONS=1 WORKLOADS=s2s KERNELS=regex:. COUNT=420 bash .device-pack/gpubench/ncu-kernels.sh   # every kernel of a step
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
# DURATIONS=1: only each kernel's duration (one replay pass, where a section takes about 10: a whole s2s step did not
# fit 95 s with SpeedOfLight), then a table of the total per kernel name ($OUT/ncu-$W-durations.txt)
[ "${DURATIONS:-0}" = 1 ] && S="--metrics gpu__time_duration.sum"
# shellcheck disable=SC2086
timeout ${CAP:-150} "$NCU" --clock-control none --kernel-name "${KERNELS:-regex:flash_attn}" --launch-skip ${SKIP:-0} --launch-count ${COUNT:-4} $S \
  /tmp/pack/java.sh ${JAVA_FLAGS:-} io.github.transformers4j.bench.gpu.GpuBench --precision bf16 --workloads "$W" --warmup 2 --iters 3 \
  --out /tmp/ncu-bench > "$OUT/ncu-$W.txt" 2>&1
echo "ncu $W rc=$?"
if [ "${DURATIONS:-0}" = 1 ]; then
  python3 - "$OUT/ncu-$W.txt" > "$OUT/ncu-$W-durations.txt" <<'PY'
import re, sys
from collections import defaultdict
total = defaultdict(lambda: [0, 0.0])  # kernel name -> launches, microseconds
name = None
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"  (\S.*?) \(\d+, \d+, \d+\)x\(\d+, \d+, \d+\)", line)
    if m:
        name = m.group(1)
        continue
    m = re.search(r"gpu__time_duration.sum\s+(\S+)\s+([\d.,]+)", line)
    if m and name:
        scale = {"ns": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3, "nsecond": 1e-3}.get(m.group(1), 1.0)
        total[name][0] += 1
        total[name][1] += float(m.group(2).replace(",", "")) * scale
        name = None
s = sum(v[1] for v in total.values())
print(f"{sum(v[0] for v in total.values())} kernels, {s:.1f} us")
for k, (n, us) in sorted(total.items(), key=lambda kv: -kv[1][1]):
    print(f"{us:10.1f} us {100 * us / max(s, 1e-9):5.1f}% {n:5d}  {k}")
PY
  head -40 "$OUT/ncu-$W-durations.txt"
fi
