#!/usr/bin/env bash
# Packs what the GPU machine needs to run our code and tests (it has no Java): the module jars, their runtime and
# test dependencies, each module's test classes, JUnit's console launcher and a jlink'd Java runtime, as ONE tarball
# in .device-pack/pack.tgz of the MAIN checkout (the device tool sends that checkout plus `carry` paths).
#
#   tools/device/pack.sh                 # modules: cuda (and what it depends on)
#   MODULES=cuda,nn tools/device/pack.sh
#   DESKTOP=1 tools/device/pack.sh        # include java.desktop (charts); +~15 MB
#
# On the device:  tar xzf .device-pack/pack.tgz -C /tmp && /tmp/pack/run-tests.sh --include-tag cuda
set -euo pipefail
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MAIN=$(cd "$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir)/.." && pwd)
DEST=${DEST:-$MAIN/.device-pack}
MODULES=${MODULES:-cuda}
JUNIT_PLATFORM=${JUNIT_PLATFORM:-1.14.1}
STAGE=$(mktemp -d)/pack
trap 'rm -rf "$(dirname "$STAGE")"' EXIT
mkdir -p "$STAGE/lib" "$STAGE/tests" "$DEST"

cd "$ROOT"
MVN=(./mvnw -q -B ${MVN_OPTS:-})
"${MVN[@]}" -pl "$MODULES" -am -DskipTests package \
  dependency:copy-dependencies -DincludeScope=test -DexcludeGroupIds=io.github.transformers4j \
  -DexcludeArtifactIds=junit-jupiter,junit-jupiter-api,junit-jupiter-engine,junit-jupiter-params,junit-platform-commons,junit-platform-engine,junit-platform-launcher,opentest4j,apiguardian-api \
  -DoutputDirectory="$STAGE/lib"
"${MVN[@]}" -N dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM \
  -DoutputDirectory="$STAGE"
mv "$STAGE"/junit-platform-console-standalone-*.jar "$STAGE/junit-platform-console-standalone.jar"

for dir in */; do
  m=${dir%/}
  [ -f "$m/pom.xml" ] || continue
  for jar in "$m"/target/*.jar; do
    [ -e "$jar" ] && [[ "$jar" != *-tests.jar && "$jar" != *-sources.jar ]] && cp "$jar" "$STAGE/lib/"
  done
  if [ -d "$m/target/test-classes" ] && [[ ",$MODULES," == *",$m,"* ]]; then
    cp -r "$m/target/test-classes" "$STAGE/tests/$m"
  fi
done

JMODS=java.base,jdk.incubator.vector,jdk.httpserver,java.logging,java.management,jdk.management,java.xml,java.naming,jdk.unsupported,jdk.zipfs
[ "${DESKTOP:-0}" = 1 ] && JMODS=$JMODS,java.desktop
"$JAVA_HOME/bin/jlink" --add-modules "$JMODS" --strip-debug --no-header-files --no-man-pages --compress=zip-9 \
  --output "$STAGE/jre"

cat > "$STAGE/run-tests.sh" <<'RUN'
#!/bin/sh
# Runs the packed test classes with JUnit's console launcher; extra arguments go to the launcher
# (e.g. --include-tag cuda, --select-class io.github.transformers4j.cuda.CublasLtTest, --reports-dir DIR).
D=$(cd "$(dirname "$0")" && pwd)
CP=$(ls "$D"/lib/*.jar | tr '\n' ':')$(ls -d "$D"/tests/* | tr '\n' ':')
SCAN=--scan-class-path=$(ls -d "$D"/tests/* | tr '\n' ':')   # test classes only, not the jars
for a in "$@"; do case "$a" in --select*|-c|-m|-p) SCAN= ;; esac; done
exec "$D/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g \
  -jar "$D/junit-platform-console-standalone.jar" execute --class-path "$CP" $SCAN \
  --disable-banner --disable-ansi-colors --details=tree "$@"
RUN
cat > "$STAGE/java.sh" <<'RUN'
#!/bin/sh
# Runs java with the packed runtime and every packed jar on the class path: java.sh some.Main args...
D=$(cd "$(dirname "$0")" && pwd)
CP=$(ls "$D"/lib/*.jar | tr '\n' ':')
exec "$D/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$CP" "$@"
RUN
chmod +x "$STAGE/run-tests.sh" "$STAGE/java.sh"

tar czf "$DEST/pack.tgz" -C "$(dirname "$STAGE")" pack
echo "packed $(du -h "$DEST/pack.tgz" | cut -f1) into $DEST/pack.tgz (modules: $MODULES)"
