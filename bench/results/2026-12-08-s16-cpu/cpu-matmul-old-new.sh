#!/usr/bin/env bash
# products alone, old (04ba50f) and new tensor classes alternated: t4j bench cpu-matmul's code, numpy skipped (PATH without python3)
DEPS=$(cut -d: -f5- /tmp/cp.txt)
for spec in "6400x128x512 --transpose-b" "6400x512x128 --transpose-b" "6400x512x128" "8320x256x1024 --transpose-b" "8320x1024x256" "512x6400x128 --transpose-a" "128x6400x512 --transpose-a" "1024x8320x256 --transpose-a"; do
  for v in /tmp/wt04 /work/main; do
    echo -n "$spec $v: "
    PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:/usr/bin:/bin T4J_NUM_THREADS=2 taskset -c 0,1 java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
      -cp "/work/main/bench/target/classes:$v/tensor/target/classes:$DEPS" io.github.transformers4j.bench.CpuMatmulBench --shape ${spec%% *} $( [ "${spec#* }" != "$spec" ] && echo ${spec#* }) 2>&1 | grep "transformers4j sgemm" | sed 's/  */ /g'
  done
done
