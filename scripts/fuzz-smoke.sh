#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (docs/fuzzing.md) briefly from its committed corpus and
# fails when one crashes. Needs a nightly toolchain (`cargo +nightly`): without one it says
# so and skips, exiting 0. Installs cargo-fuzz when missing.
#
#   scripts/fuzz-smoke.sh                 every target, FUZZ_SECONDS (default 15) each
#   scripts/fuzz-smoke.sh cookies urls    only these
#
# New inputs go to a temporary folder, never into fuzz/corpus/; a crashing input is kept
# in fuzz/artifacts/TARGET/ and the command that replays it is printed.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "no nightly toolchain (rustup toolchain install nightly): skipping the fuzz smoke run"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

seconds=${FUZZ_SECONDS:-15}
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo +nightly fuzz list); fi

echo "==> building ${#targets[@]} fuzz targets"
cargo +nightly fuzz build

work=$(mktemp -d "${TMPDIR:-/tmp}/nod-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=()
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  if cargo +nightly fuzz run "$target" "$work/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 >"$work/$target.log" 2>&1; then
    echo "    $target: $(grep -E '^#[0-9]+' "$work/$target.log" | tail -1 | awk '{print $1, "runs,", $3, $4, $5, $6}')"
  else
    failed+=("$target")
    echo "    $target: FAILED" >&2
    grep -E -A12 "panicked at|ERROR: libFuzzer|SUMMARY" "$work/$target.log" | head -40 >&2 || tail -40 "$work/$target.log" >&2
    artifact=$(grep -oE "artifacts/$target/[A-Za-z0-9_-]+" "$work/$target.log" | tail -1 || true)
    [ -n "$artifact" ] && echo "    replay: (cd fuzz && cargo +nightly fuzz run $target $artifact)" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz smoke: ${#targets[@]} targets ran ${seconds}s each, no crash"
