#!/usr/bin/env bash
# Load figures for Nod on this machine: the release binary in test mode on SQLite, wrk on
# 127.0.0.1 (installed from Debian if missing). Prints requests/s and latency for
# discovery (no I/O), userinfo (one read) and authorize (one write: a new login request).
# Usage: bench/run.sh [seconds per endpoint, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked -p nod >/dev/null
dir=$(mktemp -d)
port=18990
base="http://127.0.0.1:$port"
./target/release/nod --database "sqlite://$dir/nod.db" --listen "127.0.0.1:$port" --public-url "$base" \
  --log-format json serve --demo --access-token-lifetime 3600 >"$dir/nod.log" 2>&1 &
nod=$!
trap 'kill $nod 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do curl -fs "$base/health/ready" >/dev/null && break; sleep 0.1; done

# One real login, to get an access token: browser, app approval, consent, token.
jar="$dir/jar"
auth="$base/access-management-1.0/access/oauth2/auth?client_id=demo-client&response_type=code&scope=openid%20name%20email%20address&state=bench-state&redirect_uri=http://localhost:3000/callback"
login=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{redirect_url}' "$auth")
id=${login##*/login/}
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login/$id" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
curl -s -c "$jar" -b "$jar" -o /dev/null "$base/login/$id/phone" -d "csrf=$csrf&phone_number=%2B4791234501"
number=$(curl -s -c "$jar" -b "$jar" "$base/login/$id/wait" | grep -o 'id="challenge"[^>]*>[0-9]*' | grep -o '[0-9]*$')
device=$(curl -s "$base/app-api/v1/devices" -d '{"phone_number":"+4791234501"}' | sed 's/.*"device_token":"\([^"]*\)".*/\1/')
curl -s -o /dev/null "$base/app-api/v1/login-requests/$id/approve" -H "Authorization: Bearer $device" -d "{\"challenge\": $number}"
callback=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{redirect_url}' "$base/login/$id/consent" -d "csrf=$csrf&decision=accept")
code=$(echo "$callback" | sed 's/.*[?&]code=\([^&]*\).*/\1/')
token=$(curl -s -u demo-client:demo-secret-for-test-mode-only-0123456789 "$base/access-management-1.0/access/oauth2/token" \
  -d grant_type=authorization_code -d "code=$code" -d redirect_uri=http://localhost:3000/callback | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

run() {
  echo "== $1"
  shift
  wrk -t2 -c32 -d"${seconds}s" --latency "$@" | grep -E 'Requests/sec|  50%|  99%|Non-2xx|Socket errors' || true
}
run "discovery" "$base/access-management-1.0/access/.well-known/openid-configuration"
run "userinfo" -H "Authorization: Bearer $token" "$base/vipps-userinfo-api/userinfo"
run "authorize (writes a login request)" "$auth"
echo "== memory: $(ps -o rss= -p $nod) KiB resident"
