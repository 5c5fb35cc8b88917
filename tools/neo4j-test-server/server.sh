#!/usr/bin/env bash
# Local Neo4j 5.26 LTS Community server for commgraph tests and CI.
#
# The server is the real Neo4j Community server (the jars of the official
# tarball), fetched from Maven Central by Maven and run by a tiny launcher;
# no Docker, no tarball download.
#
#   server.sh start            build if needed, start in the background, wait for a Bolt login
#   server.sh stop             SIGTERM (clean shutdown + checkpoint), SIGKILL after a timeout
#   server.sh restart
#   server.sh status           exit 0 if running (and says whether Bolt answers), 3 if not
#   server.sh ping             real Bolt login + CALL dbms.components()
#   server.sh build            (re)build target/ with Maven
#   server.sh import ARGS...   neo4j-admin database import full ARGS... (server must be stopped)
#   server.sh admin ARGS...    any neo4j-admin command, e.g. `admin database info neo4j`
#   server.sh logs             tail the console log
#   server.sh env              print the effective settings
#
# Environment (all optional):
#   NEO4J_PASSWORD        password of user neo4j                 (commgraph-test; >= 8 chars)
#   NEO4J_BOLT_PORT       Bolt port on 127.0.0.1                  (7687)
#   NEO4J_HTTP_PORT       HTTP port on 127.0.0.1 (Browser at /browser/), "off" disables (7474)
#   NEO4J_TEST_HOME       state dir: conf/, logs/, server.pid    ($HOME/.cache/commgraph-neo4j)
#   NEO4J_DATA_DIR        database files                          ($NEO4J_TEST_HOME/data)
#   NEO4J_HEAP            JVM heap (-Xms/-Xmx)                    (2g)
#   NEO4J_PAGECACHE       server.memory.pagecache.size            (1g)
#   NEO4J_ADMIN_HEAP      heap for import/admin commands          (1g)
#   NEO4J_START_TIMEOUT   seconds to wait for a Bolt login        (180)
#   NEO4J_STOP_TIMEOUT    seconds to wait after SIGTERM           (60)
#   NEO4J_JAVA_OPTS       extra JVM options for the server (word-split)
#   NEO4J_CDS             0 disables the class-data-sharing archive in target/cds (1)
#   NEO4J_TEST_PYTHON     python with the `neo4j` driver for the readiness login (repo .venv, python3; else Java)
#   JAVA                  java binary (17 or 21)                  ($JAVA_HOME/bin/java or java)
#   MVN                   maven binary                            (mvn)
# Extra neo4j.conf lines can go in $NEO4J_TEST_HOME/extra.conf (appended verbatim).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="$HERE/target"
CP="$TARGET/neo4j-test-server.jar:$TARGET/lib/*"
MAIN=commgraph.neo4jtest.Launcher

NEO4J_PASSWORD="${NEO4J_PASSWORD:-commgraph-test}"
export NEO4J_PASSWORD
BOLT_PORT="${NEO4J_BOLT_PORT:-7687}"
HTTP_PORT="${NEO4J_HTTP_PORT:-7474}"
STATE="${NEO4J_TEST_HOME:-${HOME:-/tmp}/.cache/commgraph-neo4j}"
DATA="${NEO4J_DATA_DIR:-$STATE/data}"
HEAP="${NEO4J_HEAP:-2g}"
PAGECACHE="${NEO4J_PAGECACHE:-1g}"
ADMIN_HEAP="${NEO4J_ADMIN_HEAP:-1g}"
START_TIMEOUT="${NEO4J_START_TIMEOUT:-180}"
STOP_TIMEOUT="${NEO4J_STOP_TIMEOUT:-60}"
if [[ -n "${JAVA:-}" ]]; then :; elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi
MVN="${MVN:-mvn}"

CONF_DIR="$STATE/conf"
CONF="$CONF_DIR/neo4j.conf"
LOG_DIR="$STATE/logs"
CONSOLE_LOG="$LOG_DIR/console.log"
# Not run/neo4j.pid: that is the server's own pid file (BootloaderSettings.pid_file), which it removes.
PID_FILE="$STATE/server.pid"
BOLT_URI="bolt://127.0.0.1:$BOLT_PORT"
READY_MARKER="commgraph-neo4j-test-server: READY"

# JVM flags from Neo4j 5.26's default neo4j.conf (server.jvm.additional) that matter here.
JVM_FLAGS=(
  -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -XX:+UnlockExperimentalVMOptions
  -XX:+TrustFinalNonStaticFields -XX:+DisableExplicitGC -XX:+ExitOnOutOfMemoryError
  -Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true
  -Djdk.tls.ephemeralDHKeySize=2048 -Djdk.tls.rejectClientInitiatedRenegotiation=true
  -Dlog4j2.disable.jmx=true -Dfile.encoding=UTF-8
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
  --enable-native-access=ALL-UNNAMED
)

die() { echo "neo4j-test-server: $*" >&2; exit 1; }
say() { echo "neo4j-test-server: $*"; }

absdir() { mkdir -p "$1" && (cd "$1" && pwd); }

needs_build() {
  [[ -f "$TARGET/neo4j-test-server.jar" && -d "$TARGET/lib" ]] || return 0
  [[ -n "$(find "$HERE/pom.xml" "$HERE/src" -newer "$TARGET/neo4j-test-server.jar" -print -quit)" ]]
}

build() {
  command -v "$MVN" >/dev/null || die "maven ('$MVN') not found; install maven or set MVN"
  say "building (mvn package; the first build downloads ~140 MB from Maven Central)..."
  # stale jars from an older version must not stay on the classpath; the CDS archive is tied to the jars
  rm -rf "${TARGET:?}/lib" "${TARGET:?}/cds"
  "$MVN" -q -B -Dstyle.color=never -f "$HERE/pom.xml" package || die "maven build failed"
}

ensure_built() { if needs_build; then build; fi; }

# Writes $CONF from the environment on every start/import so that the server
# and neo4j-admin always agree on ports and the data directory.
write_conf() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$STATE/run" "$STATE/import" "$STATE/plugins"
  DATA="$(absdir "$DATA")"
  local http_enabled=true http_port="$HTTP_PORT"
  if [[ "$HTTP_PORT" == off || "$HTTP_PORT" == 0 ]]; then http_enabled=false; http_port=7474; fi
  {
    echo "# GENERATED by $HERE/server.sh on every start; put extra settings in $STATE/extra.conf"
    echo "server.default_listen_address=127.0.0.1"
    echo "server.default_advertised_address=127.0.0.1"
    echo "server.bolt.enabled=true"
    echo "server.bolt.listen_address=127.0.0.1:$BOLT_PORT"
    echo "server.bolt.advertised_address=127.0.0.1:$BOLT_PORT"
    echo "server.bolt.tls_level=DISABLED"
    echo "server.http.enabled=$http_enabled"
    echo "server.http.listen_address=127.0.0.1:$http_port"
    echo "server.http.advertised_address=127.0.0.1:$http_port"
    echo "server.https.enabled=false"
    echo "dbms.security.auth_enabled=true"
    echo "server.directories.data=$DATA"
    echo "server.directories.logs=$LOG_DIR"
    echo "server.directories.import=$STATE/import"
    echo "server.directories.plugins=$STATE/plugins"
    echo "server.directories.run=$STATE/run"
    echo "server.memory.heap.initial_size=$HEAP"
    echo "server.memory.heap.max_size=$HEAP"
    echo "server.memory.pagecache.size=$PAGECACHE"
    echo "db.tx_log.rotation.retention_policy=1G size"
    echo "dbms.usage_report.enabled=false"
    # Bolt's netty event loops otherwise wait 2 x 5 s on shutdown.
    echo "internal.dbms.bolt.netty_server_shutdown_quiet_period=1"
    if [[ -f "$STATE/extra.conf" ]]; then echo "# --- $STATE/extra.conf"; cat "$STATE/extra.conf"; fi
  } >"$CONF"
}

# kill -0 is true for a zombie (our own exited child during start), so look at the state too.
alive() { local st; st="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ -n "$st" && "$st" != Z* ]]; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid; pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  # guard against a recycled pid
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$MAIN serve" || return 1
  echo "$pid"
}

# Class-data sharing: the first server run dumps the classes it loaded into a
# CDS archive at exit (ArchiveClassesAtExit, JDK 13+); later starts map it and
# reach the first Bolt answer ~4 s sooner on 2 cores. NEO4J_CDS=0 disables it.
CDS_DIR="$TARGET/cds"
CDS_JSA="$CDS_DIR/neo4j-server.jsa"
CDS_ARGS=()
cds_flags() {
  CDS_ARGS=()
  [[ "${NEO4J_CDS:-1}" == 0 ]] && return 0
  mkdir -p "$CDS_DIR"
  if [[ -s "$CDS_JSA" ]]; then
    CDS_ARGS=("-XX:SharedArchiveFile=$CDS_JSA" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
  else
    rm -f "$CDS_JSA.tmp"
    CDS_ARGS=("-XX:ArchiveClassesAtExit=$CDS_JSA.tmp" -Xlog:cds=off -Xlog:cds+dynamic=off)
  fi
}
# After a stop: keep a freshly dumped archive only if the JVM accepts it.
cds_finish() {
  [[ -s "$CDS_JSA.tmp" ]] || return 0
  if "$JAVA" -XX:SharedArchiveFile="$CDS_JSA.tmp" -Xshare:on -Xlog:cds=off -cp "$CP" -version >/dev/null 2>&1; then
    mv -f "$CDS_JSA.tmp" "$CDS_JSA"
  else
    rm -f "$CDS_JSA.tmp"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A real Bolt login + CALL dbms.components(). Uses a Python with the `neo4j`
# driver when there is one (~0.3 s: the repo's .venv, NEO4J_TEST_PYTHON or
# python3), else the Java driver bundled with the server (~3 s JVM start).
PY_PING='
import os, sys
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError
try:
    with GraphDatabase.driver(sys.argv[1], auth=("neo4j", os.environ["NEO4J_PASSWORD"]), connection_timeout=5) as d:
        recs, _, _ = d.execute_query("CALL dbms.components() YIELD name, versions, edition RETURN name, versions[0] AS v, edition")
        for r in recs: print(r["name"], r["v"], r["edition"])
except AuthError as e:
    print("authentication failed:", e, file=sys.stderr); sys.exit(1)
except Exception as e:
    print("unavailable:", e, file=sys.stderr); sys.exit(2)
'
find_python() {
  if [[ -n "${_PY+x}" ]]; then return; fi
  _PY=""
  local c
  for c in "${NEO4J_TEST_PYTHON:-}" "$HERE/../../.venv/bin/python" python3; do
    [[ -n "$c" ]] && command -v "$c" >/dev/null 2>&1 && "$c" -c 'import neo4j' 2>/dev/null && { _PY="$c"; return; }
  done
}
ping_bolt() {
  find_python
  if [[ -n "$_PY" ]]; then "$_PY" -c "$PY_PING" "$BOLT_URI"
  else "$JAVA" -Xmx256m -cp "$CP" "$MAIN" ping "$BOLT_URI" neo4j; fi
}

print_endpoints() {
  echo "  bolt uri : $BOLT_URI"
  echo "  user     : neo4j (password from NEO4J_PASSWORD, default commgraph-test)"
  if [[ "$HTTP_PORT" != off && "$HTTP_PORT" != 0 ]]; then
    echo "  http     : http://127.0.0.1:$HTTP_PORT/  (Browser: http://127.0.0.1:$HTTP_PORT/browser/)"
  fi
  echo "  home     : $STATE   (data: $DATA, log: $CONSOLE_LOG)"
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    say "already running (pid $pid)"
    print_endpoints
    return 0
  fi
  ensure_built
  for p in "$BOLT_PORT" $([[ "$HTTP_PORT" != off && "$HTTP_PORT" != 0 ]] && echo "$HTTP_PORT"); do
    port_open "$p" && die "port 127.0.0.1:$p is already in use by another process (set NEO4J_BOLT_PORT / NEO4J_HTTP_PORT)"
  done
  write_conf
  rm -f "$PID_FILE"
  : >"$CONSOLE_LOG"
  local t0=$SECONDS extra=()
  cds_finish   # an archive dumped by a server stopped without this script
  cds_flags
  read -r -a extra <<<"${NEO4J_JAVA_OPTS:-}"
  # setsid: own session, so ^C in the calling terminal does not reach the server.
  (cd "$STATE" && exec setsid "$JAVA" "-Xms$HEAP" "-Xmx$HEAP" "${JVM_FLAGS[@]}" "${CDS_ARGS[@]}" "${extra[@]}" -cp "$CP" "$MAIN" serve "$STATE" "$CONF" \
      </dev/null >>"$CONSOLE_LOG" 2>&1) &
  pid=$!
  echo "$pid" >"$PID_FILE"
  say "starting (pid $pid), waiting up to ${START_TIMEOUT}s for a Bolt login on $BOLT_URI ..."
  while :; do
    if ! alive "$pid"; then
      wait "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      echo "---- last lines of $CONSOLE_LOG:" >&2; tail -n 40 "$CONSOLE_LOG" >&2
      die "server process exited during startup (see $CONSOLE_LOG and $LOG_DIR/debug.log)"
    fi
    if grep -qF "$READY_MARKER" "$CONSOLE_LOG" && port_open "$BOLT_PORT"; then
      local out
      if out="$(ping_bolt 2>&1)"; then
        say "up after $((SECONDS - t0))s: ${out//$'\n'/; }"
        print_endpoints
        return 0
      fi
    fi
    if ((SECONDS - t0 >= START_TIMEOUT)); then
      echo "---- last lines of $CONSOLE_LOG:" >&2; tail -n 40 "$CONSOLE_LOG" >&2
      cmd_stop >&2
      die "no Bolt login on $BOLT_URI after ${START_TIMEOUT}s; stopped the server (see $CONSOLE_LOG and $LOG_DIR/debug.log)"
    fi
    sleep 1
  done
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  say "stopping pid $pid (SIGTERM) ..."
  kill -TERM "$pid" 2>/dev/null || true
  local t0=$SECONDS
  while alive "$pid"; do
    if ((SECONDS - t0 >= STOP_TIMEOUT)); then
      say "still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.5
  done
  rm -f "$PID_FILE"
  say "stopped after $((SECONDS - t0))s"
  cds_finish
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if out="$(ping_bolt 2>&1)"; then
      say "running (pid $pid), Bolt answers: ${out//$'\n'/; }"
    else
      say "running (pid $pid), Bolt does not answer yet: $out"
    fi
    print_endpoints
    return 0
  fi
  say "not running"
  return 3
}

cmd_admin() {
  ensure_built
  write_conf
  NEO4J_HOME="$STATE" NEO4J_CONF="$CONF_DIR" \
    "$JAVA" "-Xmx$ADMIN_HEAP" "${JVM_FLAGS[@]}" -cp "$CP" org.neo4j.cli.AdminTool "$@"
}

cmd_import() {
  local pid
  if pid="$(running_pid)"; then
    die "the server is running (pid $pid); run '$0 stop' first (an offline import needs the database stopped)"
  fi
  cmd_admin database import full "$@"
}

case "${1:-}" in
  start)   cmd_start ;;
  stop)    cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status)  cmd_status ;;
  ping)    ensure_built; ping_bolt ;;
  build)   build ;;
  import)  shift; cmd_import "$@" ;;
  admin)   shift; cmd_admin "$@" ;;
  logs)    tail -n "${2:-50}" "$CONSOLE_LOG" ;;
  env)     write_conf; print_endpoints; echo "  conf     : $CONF"; echo "  heap     : $HEAP, pagecache: $PAGECACHE" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 64 ;;
esac
