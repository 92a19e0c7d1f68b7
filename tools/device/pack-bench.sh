#!/usr/bin/env bash
# Packs what the GPU harness and a GPU training run need on the GPU machine (it has no Java and no network):
# the CLI's runtime jars (cli, bench, cuda and their dependencies), the cuda and tensor test classes with JUnit's
# console launcher and AssertJ (for the @Tag("cuda") tests), a jlink'd Java runtime, bench/python/torch_bench.py,
# bench/gpu-bench.sh, and optionally the Fashion-MNIST files, into DEST (a folder of the MAIN checkout that the device
# tool carries, e.g. DEST=/work/main/.device-pack/gpubench; the pack itself is DEST/pack.tar.xz, about 28 MB).
#
#   DEST=/work/main/.device-pack/gpubench DATA=/usr/share/datasets/fashion-mnist tools/device/pack-bench.sh
#
# On the device (carry the DEST folder):  bash .device-pack/gpubench/gpu-bench.sh [harness options]
# TESTS=0 leaves the @Tag("cuda") tests out (a training pack: tools/device/zoo-runs.sh).
set -euo pipefail
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MAIN=$(cd "$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir)/.." && pwd)
DEST=${DEST:-$MAIN/.device-pack/gpubench}
JUNIT_PLATFORM=${JUNIT_PLATFORM:-1.14.1}
STAGE=$(mktemp -d)/pack
trap 'rm -rf "$(dirname "$STAGE")"' EXIT
mkdir -p "$STAGE/lib" "$STAGE/tests" "$DEST"

cd "$ROOT"
MVN=(./mvnw -q -B ${MVN_OPTS:-})
"${MVN[@]}" -pl cli,bench,cuda -am -DskipTests install
cp cli/target/t4j.jar "$STAGE/"
cp cli/target/lib/*.jar "$STAGE/lib/"
if [ "${TESTS:-1}" = 1 ]; then
  "${MVN[@]}" -N dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM -DoutputDirectory="$STAGE"
  "${MVN[@]}" -N dependency:copy -Dartifact=org.assertj:assertj-core:3.27.6 -DoutputDirectory="$STAGE/testlib"
  mv "$STAGE"/junit-platform-console-standalone-*.jar "$STAGE/junit-platform-console-standalone.jar"
  cp -r tensor/target/test-classes "$STAGE/tests/tensor"
  cp -r cuda/target/test-classes "$STAGE/tests/cuda"
  cp -r bench/target/test-classes "$STAGE/tests/bench"
else
  # TESTS=0, a training pack (with DATA= it must fit the 64 MiB carry beside the checkout): no test classes, and
  # without XChart's PDF/SVG export libraries (PNG plots do not load them)
  rm -f "$STAGE"/lib/pdfbox-*.jar "$STAGE"/lib/fontbox-*.jar "$STAGE"/lib/graphics2d-*.jar "$STAGE"/lib/VectorGraphics2D-*.jar \
    "$STAGE"/lib/commons-logging-*.jar
fi

"$JAVA_HOME/bin/jlink" --add-modules java.base,java.desktop,jdk.incubator.vector,java.logging,java.management,jdk.management,java.xml,java.naming,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-0 --output "$STAGE/jre" \
  --exclude-files='**/libsplashscreen.so,**/libjsound.so,**/libawt_xawt.so,**/libjavajpeg.so' # headless (java.sh), no JPEG reader: not loaded

cat > "$STAGE/java.sh" <<'RUN'
#!/bin/sh
# java with the packed runtime and every packed jar: java.sh some.Main args...
D=$(cd "$(dirname "$0")" && pwd)
exec "$D/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g -Djava.awt.headless=true \
  -cp "$D/t4j.jar:$(ls "$D"/lib/*.jar | tr '\n' ':')" "$@"
RUN
cat > "$STAGE/t4j" <<'RUN'
#!/bin/sh
D=$(cd "$(dirname "$0")" && pwd)
exec "$D/java.sh" io.github.transformers4j.cli.T4j "$@"
RUN
cat > "$STAGE/cuda-tests.sh" <<'RUN'
#!/bin/sh
# the @Tag("cuda") tests of the tensor, cuda and bench modules; extra arguments go to JUnit's console launcher
D=$(cd "$(dirname "$0")" && pwd)
CP=$(ls "$D"/lib/*.jar "$D"/testlib/*.jar | tr '\n' ':')$D/tests/tensor:$D/tests/cuda:$D/tests/bench
exec "$D/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g \
  -jar "$D/junit-platform-console-standalone.jar" execute --class-path "$CP" --scan-class-path="$D/tests/tensor:$D/tests/cuda:$D/tests/bench" \
  --include-tag cuda --disable-banner --disable-ansi-colors --details=tree "$@"
RUN
chmod +x "$STAGE/java.sh" "$STAGE/t4j" "$STAGE/cuda-tests.sh"

# jars rewritten uncompressed (stored): xz over the whole tar then packs them in half the bytes of their deflate
python3 - "$STAGE" <<'PY'
import glob, os, sys, zipfile
for jar in glob.glob(sys.argv[1] + "/**/*.jar", recursive=True):
    with zipfile.ZipFile(jar) as z:
        entries = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(jar + ".tmp", "w", zipfile.ZIP_STORED) as out:
        for info, data in entries:
            info.compress_type = zipfile.ZIP_STORED
            out.writestr(info, data)
    os.replace(jar + ".tmp", jar)
PY
# uncompressed runtime + xz: 28 MB instead of 39 MB with jlink's zip and gzip (the carried folder has a 64 MiB budget)
rm -f "$DEST/pack.tgz"
tar cf - -C "$(dirname "$STAGE")" pack | xz -9 -T2 > "$DEST/pack.tar.xz"
cp bench/python/torch_bench.py bench/python/torch_profile.py bench/python/torch_cpu_vit.py bench/gpu-bench.sh tools/device/bench-session.sh tools/device/ncu-kernels.sh "$DEST/"
if [ -n "${DATA:-}" ]; then
  # IDX files recompressed with xz (the device unpacks them to raw IDX): 27 MB instead of 31 MB
  mkdir -p "$DEST/data"
  for f in "$DATA"/*-ubyte.gz; do b=$(basename "$f" .gz); [ -f "$DEST/data/$b.xz" ] || gzip -dc "$f" | xz -9 -T2 > "$DEST/data/$b.xz"; done
  rm -f "$DEST"/data/*.gz
fi
du -sh "$DEST"/* | sed 's/^/packed: /'
# The device tool carries the checkout's files too, 64 MiB in all, counted in disk blocks (du, not du -b)
TREE_K=$(cd "$MAIN" && git ls-files -z | du -c --files0-from=- 2>/dev/null | tail -1 | cut -f1)
PACK_K=$(du -s "$DEST" | cut -f1)
echo "packed: checkout $((TREE_K / 1024)) MiB + carry $((PACK_K / 1024)) MiB = $(((TREE_K + PACK_K) / 1024)) MiB of the 64 MiB a call takes"
if [ $((TREE_K + PACK_K)) -gt $((64 * 1024)) ]; then
  echo "packed: over 64 MiB: for the call, take the raw results out of the checkout (rm -rf bench/results/2026-*) and put them back after (git checkout -- bench/results)"
fi
