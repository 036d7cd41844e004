# Shared by scripts/setup, scripts/start, scripts/test and ./pgbranch. Source it; do not run it.
# shellcheck shell=bash

# Prints the home of a JDK >= 25, or nothing. Order: $JAVA_HOME, Temurin 25 under /usr/lib/jvm,
# any other JDK under /usr/lib/jvm, `java` on PATH.
pgbranch_find_jdk() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-2[5-9]* /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    if [ "$(pgbranch_java_major "$candidate/bin/java")" -ge 25 ] 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  if command -v java >/dev/null 2>&1 && [ "$(pgbranch_java_major java)" -ge 25 ] 2>/dev/null; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    [ -x "$candidate/bin/javac" ] && echo "$candidate" && return 0
  fi
  return 1
}

# The major version of the given java executable ("25" for 25.0.1): from the JDK's `release` file
# when it has one (reading it costs nothing; starting a JVM to ask costs 50 ms on every command).
pgbranch_java_major() {
  local release major
  release="$(dirname "$(dirname "$1")")/release"
  if [[ $1 == */* ]] && [ -f "$release" ]; then
    major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
    [ -n "$major" ] && echo "$major" && return 0
  fi
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p'
}

# The server JVM's maximum heap, as a -Xmx value: $PGBRANCH_HEAP when set (e.g. 2g, 1536m), else a
# quarter of the machine's memory (or of the cgroup's limit, if lower), at least 256m and at most 8g.
# The storage engine keeps its in-memory layers and caches inside a budget of its own; the heap is
# sized so that the budget, the FUSE buffers and the proxy fit, while Postgres computes get the rest.
pgbranch_server_heap() {
  if [ -n "${PGBRANCH_HEAP:-}" ]; then
    if ! [[ $PGBRANCH_HEAP =~ ^[1-9][0-9]*[kKmMgG]?$ ]]; then
      pgbranch_log "PGBRANCH_HEAP='$PGBRANCH_HEAP' is not a heap size like 2g or 1536m"
      return 2
    fi
    echo "$PGBRANCH_HEAP"
    return 0
  fi
  local kib limit mib
  kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
  limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || true)
  if [[ $limit =~ ^[0-9]+$ ]] && [ $((limit / 1024)) -lt "$kib" ]; then
    kib=$((limit / 1024))
  fi
  mib=$((kib / 1024 / 4))
  [ "$mib" -lt 256 ] && mib=256
  [ "$mib" -gt 8192 ] && mib=8192
  echo "${mib}m"
}

pgbranch_log() {
  printf '[pgbranch] %s\n' "$*" >&2
}

# Builds the jars (./mvnw install -DskipTests) when they are missing or older than any main
# source or pom of the modules, so that ./pgbranch never runs stale code after a pull or an edit.
# Prints the pageserver jar.
pgbranch_ensure_built() {
  local root=$1 jar
  jar=$(pgbranch_server_jar "$root")
  if [ -z "$jar" ] || [ ! -d "$(dirname "$jar")/lib" ] \
      || [ -n "$(find "$root/pom.xml" "$root"/*/pom.xml "$root"/storage-engine/src/main \
                 "$root"/wire-proxy/src/main "$root"/pageserver/src/main -newer "$jar" -print -quit)" ]; then
    if [ "${PGBRANCH_BUILD_DIR:-target}" != target ]; then
      pgbranch_log "the build in $root/pageserver/$PGBRANCH_BUILD_DIR is missing or older than the sources: build it first"
      return 2
    fi
    pgbranch_log "building (./mvnw -q -B -DskipTests install)"
    (cd "$root" && ./mvnw -q -B -DskipTests install) >&2
    jar=$(pgbranch_server_jar "$root")
    [ -n "$jar" ] || { pgbranch_log "build finished but no pageserver jar in $root/pageserver/target"; return 2; }
  fi
  echo "$jar"
}

# PGBRANCH_BUILD_DIR names the modules' build directory when it is not `target` (a worktree built
# with -Dpgbranch.build.dir=...); ./pgbranch then never builds: build it yourself first.
pgbranch_server_jar() {
  local jar
  for jar in "$1"/pageserver/"${PGBRANCH_BUILD_DIR:-target}"/pageserver-*.jar; do
    case "$jar" in *-sources.jar|*-tests.jar|*-javadoc.jar) continue ;; esac
    [ -f "$jar" ] && echo "$jar" && return 0
  done
}
