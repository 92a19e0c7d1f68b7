#!/bin/bash
# Runs the @Tag("cuda") tests of a pack made by pack.sh, on the GPU machine, and prints a digest (failures, printed
# figures, summary); the full log and JUnit XML reports go under $OUT. Usage there (device tool, carry the pack folder):
#   bash tools/device/cuda-tests.sh .device-pack/pack.tgz          # or any other pack.tgz path
#   EXTRA="--select-class io.github.transformers4j.cuda.CudaBenchTest" bash tools/device/cuda-tests.sh PACK
set -u
PACK=${1:-.device-pack/pack.tgz}
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
tar xzf "$PACK" -C /tmp || exit 1
D=/tmp/pack
nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total --format=csv,noheader
CP=$(ls $D/lib/*.jar | tr '\n' ':')$(ls -d $D/tests/* | tr '\n' ':')
SCAN=$(ls -d $D/tests/* | tr '\n' ':')
start=$(date +%s)
# shellcheck disable=SC2086
$D/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g \
  -jar $D/junit-platform-console-standalone.jar execute --class-path "$CP" --scan-class-path="$SCAN" \
  --include-tag cuda --disable-banner --disable-ansi-colors --details=tree --reports-dir "$OUT/reports" ${EXTRA:-} \
  > "$OUT/log.txt" 2>&1
echo "junit rc=$? in $(( $(date +%s) - start )) s"
echo "=== failures (first lines)"
grep -n "✘" "$OUT/log.txt" | cut -c1-400 | head -80
echo "=== printed figures"
grep -E "^\| |loss cpu|w_cuda|ulp|allocator|relative error|cuBLASLt refused|training step" "$OUT/log.txt" | cut -c1-300 | head -80
echo "=== summary"
grep -E "tests (successful|failed|found|skipped|aborted)|containers failed" "$OUT/log.txt"
