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

# The major version of the given java executable ("25" for 25.0.1).
pgbranch_java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p'
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
  if [ -z "$jar" ] || [ ! -d "$root/pageserver/target/lib" ] \
      || [ -n "$(find "$root/pom.xml" "$root"/*/pom.xml "$root"/storage-engine/src/main \
                 "$root"/wire-proxy/src/main "$root"/pageserver/src/main -newer "$jar" -print -quit)" ]; then
    pgbranch_log "building (./mvnw -q -B -DskipTests install)"
    (cd "$root" && ./mvnw -q -B -DskipTests install) >&2
    jar=$(pgbranch_server_jar "$root")
    [ -n "$jar" ] || { pgbranch_log "build finished but no pageserver jar in $root/pageserver/target"; return 2; }
  fi
  echo "$jar"
}

pgbranch_server_jar() {
  local jar
  for jar in "$1"/pageserver/target/pageserver-*.jar; do
    case "$jar" in *-sources.jar|*-tests.jar|*-javadoc.jar) continue ;; esac
    [ -f "$jar" ] && echo "$jar" && return 0
  done
}
