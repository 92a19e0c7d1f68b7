#!/usr/bin/env bash
# Session 16, device call 4: the whole @Tag("cuda") suite with cuDNN's attention on by default (e7de757: before, the
# suite ran it only in CudnnAttentionCudaTest), then issue 18's CPU side by side on this machine's Xeon, where the issue's
# own table was taken (bench/cpu-vs-torch.sh: our step and PyTorch's, pinned to cores 0 and 1, 2 threads each,
# alternated, with torch.compile as a third variant). One archive back.
set -u
cd "$(dirname "$0")/../.."
T0=$(date +%s)
python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall("/tmp", filter="fully_trusted")' .device-pack/gpubench/pack.tar.xz
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; grep -m1 "model name" /proc/cpuinfo
/tmp/pack/t4j info 2>&1 | grep -i "cudnn"
timeout ${TEST_CAP:-220} /tmp/pack/cuda-tests.sh > "$OUT/tests.txt" 2>&1
echo "tests rc=$? at $(( $(date +%s) - T0 )) s"
grep -E "✘|tests (successful|failed|found|aborted|skipped)|Assumption" "$OUT/tests.txt" | cut -c1-300 | head -40
JAVA_CMD=/tmp/pack/java.sh PYTHON=python3 OUTFILE="$OUT/cpu-step.txt" COMPILE=${COMPILE:-1} ROUNDS=${ROUNDS:-2} \
  timeout ${CPU_CAP:-400} bash bench/cpu-vs-torch.sh > "$OUT/cpu-run.txt" 2>&1
echo "cpu side by side rc=$? at $(( $(date +%s) - T0 )) s"; grep -E "^\||round" "$OUT/cpu-run.txt" | cut -c1-200
cd "$OUT" && tar czf ../call4.tgz . && find . -mindepth 1 -delete && mv ../call4.tgz .
