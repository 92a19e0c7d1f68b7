#!/usr/bin/env bash
# Issue 18's side by side: our CPU training step against PyTorch's on the same cores, in one command.
# Both run vit-mini-p4 (1x28x28) and vit-tiny-p4 (3x32x32), batch 128, cross-entropy, backward, AdamW
# (VitTrainStepBench / bench/python/torch_cpu_vit.py: the same models), pinned to the same cores with taskset,
# THREADS threads each, alternated ROUNDS times; the table gives each side's best median and the ratio.
#
#   ./mvnw -q -o install -DskipTests && PYTHON=/path/to/python-with-torch bench/cpu-vs-torch.sh
#
# PyTorch at its best: its CPU wheels call MKL, which runs a slower generic code path on AMD processors (on a 2-core
# AMD EPYC, 2026-12-07: torch.mm 1024^3 at 214 GFLOP/s against numpy/OpenBLAS's 448). On an AMD CPU, where a C
# compiler is at hand, PyTorch also runs with a preloaded shim that answers MKL's "is this an Intel CPU?" with yes
# (MKL's AVX-512 kernels: 343-482 GFLOP/s there), and its faster figure is the reference. COMPILE=1 adds
# torch.compile of the step (no faster than eager there: 246 against 254 ms; its first steps compile for 40 s).
# JAVA_CMD: how to start java with our classes (default: the Temurin 25 JDK and the Maven build's classpath);
# on the GPU machine bench-session.sh passes its pack's java.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
THREADS=${THREADS:-2} CORES=${CORES:-0-$((${THREADS:-2} - 1))} ROUNDS=${ROUNDS:-2} WARMUP=${WARMUP:-5} ITERS=${ITERS:-15}
PYTHON=${PYTHON:-python3}
OUTFILE=${OUTFILE:-/dev/null}
if [ -z "${JAVA_CMD:-}" ]; then
  JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
  CP="$ROOT/bench/target/classes:$ROOT/models/target/classes:$ROOT/nn/target/classes:$ROOT/tensor/target/classes"
  CP="$CP:$(cd "$ROOT" && ./mvnw -q -o -pl bench dependency:build-classpath -Dmdep.outputFile=/dev/stdout 2>/dev/null)"
  JAVA_CMD="$JAVA_HOME/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp $CP"
fi
"$PYTHON" -c 'import torch' 2>/dev/null || { echo "cpu-vs-torch: $PYTHON cannot import torch (PYTHON=... names a python3 that can)"; exit 2; }
PIN=(taskset -c "$CORES")
command -v taskset > /dev/null || PIN=()

# variants of the PyTorch side: "name|environment"
VARIANTS=("eager|")
SHIM=
if grep -q AuthenticAMD /proc/cpuinfo 2>/dev/null && command -v cc > /dev/null \
    && "$PYTHON" -c 'import torch, sys; sys.exit(0 if "mkl" in torch.__config__.show().lower() else 1)'; then
  SHIM=$(mktemp -d)/libmkl_intel_path.so
  echo 'int mkl_serv_intel_cpu_true(void) { return 1; }' | cc -shared -fPIC -x c -o "$SHIM" - && VARIANTS+=("eager, MKL's Intel path|LD_PRELOAD=$SHIM")
fi
[ "${COMPILE:-0}" = 1 ] && VARIANTS+=("torch.compile|T4J_TORCH_COMPILE=1${SHIM:+ LD_PRELOAD=$SHIM}")

echo "cpu-vs-torch: cores $CORES, $THREADS threads, $ROUNDS rounds, $WARMUP warm-up + $ITERS timed steps; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)" | tee -a "$OUTFILE"
declare -A best
keep() { # KEY MS: the smallest median per key
  local cur=${best[$1]:-}
  if [ -z "$cur" ] || awk -v a="$2" -v b="$cur" 'BEGIN{exit !(a < b)}'; then best[$1]=$2; fi
}
for round in $(seq "$ROUNDS"); do
  for m in "vit-mini-p4 28 1" "vit-tiny-p4 32 3"; do
    # shellcheck disable=SC2086
    line=$(T4J_NUM_THREADS=$THREADS "${PIN[@]}" $JAVA_CMD io.github.transformers4j.bench.VitTrainStepBench $m 128 "$WARMUP" "$ITERS" 2>&1 | grep "median step")
    echo "round $round transformers4j: $line" | tee -a "$OUTFILE"
    keep "t4j ${m%% *}" "$(sed -E 's/.*median step ([0-9.]+) ms.*/\1/' <<< "$line")"
  done
  for v in "${VARIANTS[@]}"; do
    name=${v%%|*} envs=${v#*|}
    # shellcheck disable=SC2086
    out=$(cd "$ROOT/bench/python" && env $envs OMP_NUM_THREADS="$THREADS" "${PIN[@]}" "$PYTHON" torch_cpu_vit.py "$THREADS" "$WARMUP" "$ITERS" 2>&1 | grep "median step")
    while read -r line; do
      [ -z "$line" ] && continue
      echo "round $round torch ($name): $line" | tee -a "$OUTFILE"
      model=$(grep -oE 'vit-(mini|tiny)-p4' <<< "$line")
      keep "torch $model" "$(sed -E 's/.*median step ([0-9.]+) ms.*/\1/' <<< "$line")"
      keep "torch $model $name" "$(sed -E 's/.*median step ([0-9.]+) ms.*/\1/' <<< "$line")"
    done <<< "$out"
  done
done
{
  echo
  echo "| model, batch 128, $THREADS threads | transformers4j ms/step | PyTorch ms/step (best variant) | speed, transformers4j / PyTorch |"
  echo "|---|---:|---:|---:|"
  for model in vit-mini-p4 vit-tiny-p4; do
    j=${best[t4j $model]:-} t=${best[torch $model]:-}
    [ -n "$j" ] && [ -n "$t" ] && echo "| $model | $j | $t | $(awk -v t="$t" -v j="$j" 'BEGIN{printf "%.2f", t / j}') |"
  done
  echo
  for k in "${!best[@]}"; do [[ $k == torch\ vit-*\ * ]] && echo "PyTorch variant $k: best median ${best[$k]} ms"; done | sort
} | tee -a "$OUTFILE"
