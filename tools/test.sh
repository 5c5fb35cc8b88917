#!/usr/bin/env bash
# The test command: set up everything (venv, Neo4j test server, Chromium) and run the suite.
# Usage: bash tools/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh all

# Headless Chromium for the HTML-view tests (Debian packages; root on our machines).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "note: chromium/chromedriver missing and not root: browser tests will fail" >&2
  fi
fi

# R with Bioconductor's limma: the reference the differential statistics are checked against.
if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'suppressMessages(library(limma))' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-base-core r-bioc-limma >/dev/null
  else
    echo "note: R/limma missing and not root: the R-limma comparison will fail" >&2
  fi
fi

# A real Neo4j 5.26 server from Maven Central, on 127.0.0.1, for the tests marked neo4j.
export NEO4J_PASSWORD="${NEO4J_PASSWORD:-commgraph-test}"
export NEO4J_TEST_HOME="${NEO4J_TEST_HOME:-$PWD/.neo4j-test}"
started=0
# free ports from the OS unless given: the suite must run beside another Neo4j (a developer's on
# 7687/7474, another checkout's test server)
free_port() { .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
if [ -z "${COMMGRAPH_TEST_NEO4J:-}" ]; then
  export NEO4J_BOLT_PORT="${NEO4J_BOLT_PORT:-$(free_port)}"
  export NEO4J_HTTP_PORT="${NEO4J_HTTP_PORT:-$(free_port)}"
  bash tools/neo4j-test-server/server.sh start
  started=1
  export COMMGRAPH_TEST_NEO4J="bolt://127.0.0.1:$NEO4J_BOLT_PORT"
  # the server's HTTP port serves Neo4j Browser: tests/test_browser.py drives it in headless Chromium
  export COMMGRAPH_TEST_NEO4J_HTTP="http://127.0.0.1:$NEO4J_HTTP_PORT"
fi
cleanup() { [ "$started" = 1 ] && bash tools/neo4j-test-server/server.sh stop || true; }
trap cleanup EXIT

.venv/bin/python -m pytest "$@"
