#!/usr/bin/env bash
# Runs every test of Nod, installing first what the tests need on a fresh machine:
# Node.js and npm (the certified OpenID Connect client used as a relying party, and
# playwright-core), Debian's Chromium (the browser journeys; no browser is downloaded),
# and the e2e packages from package-lock.json; PostgreSQL (Debian's postgresql), of which
# it starts a throwaway cluster on 127.0.0.1 and stops it at the end
# (scripts/pg-cluster.sh); Python's venv, for schemathesis (scripts/api-fuzz.sh installs
# it from PyPI in a venv). Needs a Rust toolchain (cargo).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }

echo "==> npm ci (e2e)"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix e2e --no-audit --no-fund --loglevel=error

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> module graph (no module imports one that imports it back)"
for crate in nod-core nod-server nod; do
  python3 scripts/module-graph.py "crates/$crate/src"
done

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> PostgreSQL (a throwaway cluster on 127.0.0.1 for the PostgreSQL runs)"
# An existing server can be named instead: NOD_TEST_POSTGRES_URL=postgres://…
if [ -z "${NOD_TEST_POSTGRES_URL:-}" ]; then
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/nod-pg.XXXXXX")
  trap 'scripts/pg-cluster.sh stop "$pg_dir"' EXIT
  NOD_TEST_POSTGRES_URL=$(scripts/pg-cluster.sh start "$pg_dir")
  # The fault tests restart this cluster (scripts/pg-cluster.sh restart).
  NOD_TEST_POSTGRES_DIR=$pg_dir
  export NOD_TEST_POSTGRES_URL NOD_TEST_POSTGRES_DIR
fi
echo "    $NOD_TEST_POSTGRES_URL"

echo "==> cargo test"
cargo test --workspace --locked

echo "==> the server's suite again, every flow on PostgreSQL"
NOD_TEST_BACKEND=postgres cargo test --locked -p nod-server --test it

echo "==> faults: PostgreSQL restarted and an instance killed in the middle of logins"
# Alone: they restart the cluster every other test uses. Skipped (saying so) when the
# cluster is not this script's own.
cargo test --locked -p nod-server --test it -- --ignored --test-threads=1 faults::

echo "==> API fuzzing: schemathesis against /openapi.json and a demo Nod"
scripts/api-fuzz.sh

echo "==> fuzz smoke (every fuzz target briefly from its corpus; skipped without nightly)"
scripts/fuzz-smoke.sh

echo "==> browser journeys (Chromium)"
# `cargo test` built target/debug/nod for the CLI tests; the journeys run that binary.
[ -x target/debug/nod ] || cargo build --locked -p nod
node --test --test-concurrency=1 e2e/browser/*.test.mjs

echo "==> benchmark harness smoke (every scenario for a second, Nod and the peer)"
bench/run.sh --smoke
