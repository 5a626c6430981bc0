#!/usr/bin/env bash
# Whole logins against Nod and a peer (node-oidc-provider), on this machine, 127.0.0.1 only.
# Builds nod and nod-bench, installs the peer's npm packages, then `nod-bench run` starts
# Nod (test mode, a fresh SQLite database, people imported for the virtual users) and the
# peer on free ports, runs the RS256 signing limit, `remembered` on both sides in
# alternating rounds, `desktop` and `ciba` on Nod, and an open-loop authorize flood on
# both; then 1,000 browsers on the waiting page approved one by one (approval → continue
# event), a fresh Nod's memory with 100,000 pending login requests, and CPU per login on
# databases with 1,000 and 1,000,000 generated users. Prints the side-by-side table and
# writes results.json, results.md and chart.svg to bench/results/. The servers are
# stopped on exit. Sizes: --waiting, --approval-rate, --pending, --small-users,
# --large-users. With --postgres URL (a server on this machine), then `remembered` and
# `ciba` on one Nod and on two Nods sharing a fresh PostgreSQL database; --only postgres
# runs that part alone. --smoke takes NOD_TEST_POSTGRES_URL for it when that is set.
#
# Usage: bench/run.sh [--smoke] [nod-bench run options, e.g. --seconds 20 --rounds 5]
#   --smoke: debug builds and a second or so of load per scenario; fails when the harness
#   errs or any login fails (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
if [ "${1:-}" = "--smoke" ]; then
  profile=debug
  nice -n 15 cargo build --locked -p nod -p nod-bench
else
  profile=release
  nice -n 15 cargo build --release --locked -p nod -p nod-bench
fi
npm ci --prefix bench/peer --no-audit --no-fund --loglevel=error
exec "$target_dir/$profile/nod-bench" run --nod "$target_dir/$profile/nod" --peer-dir bench/peer "$@"
