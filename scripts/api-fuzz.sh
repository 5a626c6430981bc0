#!/usr/bin/env bash
# Fuzzes Nod's HTTP APIs with schemathesis, driven by the OpenAPI document Nod serves at
# /openapi.json. Starts `nod serve --demo` on a free 127.0.0.1 port over a throwaway
# SQLite file (rate limits raised, so the fuzzer meets the code rather than the limits),
# gets credentials for every kind of caller (a device token for the app API, the demo
# sales unit's Basic credentials for the OpenID Connect and CIBA endpoints, a merchant API
# token for the webhooks API, an access token from a merchant-initiated login for
# userinfo), and runs schemathesis with a bounded number of examples per operation. Fails
# on any 5xx and on any answer the document does not describe (status, content type,
# headers, body schema). Installs schemathesis (pinned) in a venv under the target
# directory; needs python3 and cargo. See docs/api-reference.md.
#
#   scripts/api-fuzz.sh              the default run (one to two minutes)
#   API_FUZZ_EXAMPLES=200 scripts/api-fuzz.sh   a longer one
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES=${API_FUZZ_EXAMPLES:-150}
target=${CARGO_TARGET_DIR:-target}
venv="$target/api-fuzz/venv"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
cargo build --quiet --locked -p nod
nod="$target/debug/nod"

dir=$(mktemp -d "${TMPDIR:-/tmp}/nod-api-fuzz.XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
many=1000000
RUST_LOG=warn "$nod" --database "sqlite://$dir/nod.db" --listen "127.0.0.1:$port" \
  --public-url "$base" serve --demo \
  --authorize-per-ip-per-minute $many --ciba-start-per-client-per-minute $many \
  --user-exists-per-client-per-minute $many --device-activation-per-ip-per-minute $many \
  --phone-form-per-ip-per-minute $many --max-pending-per-user $many >"$dir/nod.log" 2>&1 &
nod_pid=$!
cleanup() {
  kill "$nod_pid" 2>/dev/null || true
  wait "$nod_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

echo "==> credentials (device, merchant API, access token from a merchant-initiated login)"
"$venv/bin/python" - "$base" "$dir/nod.log" "$nod_pid" >"$dir/credentials.env" <<'PY'
import base64, json, os, sys, time, urllib.error, urllib.parse, urllib.request

base, log, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(300):
    try:
        with urllib.request.urlopen(base + "/health/ready") as response:
            if response.status == 200:
                break
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("nod exited:\n" + open(log).read())
    time.sleep(0.1)
else:
    sys.exit("nod did not start:\n" + open(log).read())
# The demo sales unit's credentials, as `nod serve --demo` prints them.
printed = dict(
    line.strip().split(":", 1) for line in open(log) if line.strip().startswith("client_")
)
client_id, secret = printed["client_id"].strip(), printed["client_secret"].strip()
basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def call(method, path, body=None, headers=None, form=None):
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


status, users = call("GET", "/app-api/v1/test-users")
assert status == 200, users
phone = next(u["phone_number"] for u in users["users"] if u["may_log_in"] and u["has_address"])
status, device = call("POST", "/app-api/v1/devices", {"phone_number": phone})
assert status == 201, device
device_auth = {"Authorization": "Bearer " + device["device_token"]}

status, token = call("POST", "/accesstoken/get",
                     headers={"client_id": client_id, "client_secret": secret})
assert status == 200, token

scope = "openid name email address phoneNumber birthDate"
status, started = call("POST", "/vipps-login-ciba/api/backchannel/authentication",
                       headers={"Authorization": basic},
                       form={"login_hint": "urn:msisdn:" + phone, "scope": scope})
assert status == 200, started
status, pending = call("GET", "/app-api/v1/login-requests", headers=device_auth)
assert status == 200 and pending["login_requests"], pending
request = pending["login_requests"][0]
status, answer = call("POST", f"/app-api/v1/login-requests/{request['id']}/approve",
                      {"consent": True} if request["consent_in_app"] else {}, headers=device_auth)
assert status == 200, answer
for _ in range(30):
    status, tokens = call("POST", "/access-management-1.0/access/oauth2/token",
                          headers={"Authorization": basic},
                          form={"grant_type": "urn:openid:params:grant-type:ciba",
                                "auth_req_id": started["auth_req_id"]})
    if status == 200:
        break
    assert tokens["error"] in ("authorization_pending", "slow_down"), tokens
    time.sleep(1)
assert status == 200, tokens

# Things for the fuzzer to find: pending login requests to answer, a webhook registration
# to remove (its URL refuses connections), the consent the login above gave.
pending_ids = []
for _ in range(3):
    status, started = call("POST", "/vipps-login-ciba/api/backchannel/authentication",
                           headers={"Authorization": basic},
                           form={"login_hint": "urn:msisdn:" + phone, "scope": "openid name"})
    assert status == 200, started
status, pending = call("GET", "/app-api/v1/login-requests", headers=device_auth)
assert status == 200 and len(pending["login_requests"]) == 3, pending
for i, request in enumerate(pending["login_requests"]):
    print(f"NOD_FUZZ_LOGIN_{i}={request['id']}")
status, webhook = call("POST", "/webhooks/v1/webhooks",
                       {"url": "http://127.0.0.1:9/hook", "events": ["login.merchant-initiated.ping.v1"]},
                       headers={"Authorization": "Bearer " + token["access_token"]})
assert status == 201, webhook
print(f"NOD_FUZZ_WEBHOOK={webhook['id']}")
print(f"NOD_FUZZ_DEVICE_TOKEN={device['device_token']}")
print(f"NOD_FUZZ_PHONE={phone}")
print(f"NOD_FUZZ_MERCHANT_TOKEN={token['access_token']}")
print(f"NOD_FUZZ_ACCESS_TOKEN={tokens['access_token']}")
print(f"NOD_FUZZ_BASIC={basic[len('Basic '):]}")
print(f"NOD_FUZZ_CLIENT_ID={client_id}")
print(f"NOD_FUZZ_CLIENT_SECRET={secret}")
PY
set -a
# shellcheck disable=SC1091
. "$dir/credentials.env"
set +a

# Each kind of endpoint gets its caller's credentials; the fuzzer varies everything else.
# The demo sales unit's merchant serial number (a wrong one is a 400 before anything else
# is looked at, and the integration suite covers it).
cat >"$dir/schemathesis.toml" <<'TOML'
[parameters]
Merchant-Serial-Number = "123456"

[[operations]]
include-path-regex = "^/app-api/"
headers = { Authorization = "Bearer ${NOD_FUZZ_DEVICE_TOKEN}" }

[[operations]]
include-path-regex = "^/(access-management-1\\.0/access/oauth2/(token|revoke)|vipps-login-ciba/)"
headers = { Authorization = "Basic ${NOD_FUZZ_BASIC}" }

[[operations]]
include-path-regex = "^/vipps-userinfo-api/"
headers = { Authorization = "Bearer ${NOD_FUZZ_ACCESS_TOKEN}" }

[[operations]]
include-path = "/accesstoken/get"
headers = { client_id = "${NOD_FUZZ_CLIENT_ID}", client_secret = "${NOD_FUZZ_CLIENT_SECRET}" }

[[operations]]
include-path-regex = "^/webhooks/"
headers = { Authorization = "Bearer ${NOD_FUZZ_MERCHANT_TOKEN}" }

# Real identifiers, so that the fuzzer reaches past "no such thing".
[[operations]]
include-path = "/app-api/v1/login-requests/{id}/approve"
parameters = { id = "${NOD_FUZZ_LOGIN_0}" }

[[operations]]
include-path = "/app-api/v1/login-requests/{id}/reject"
parameters = { id = "${NOD_FUZZ_LOGIN_1}" }

[[operations]]
include-path = "/app-api/v1/login-requests/{id}/outcome"
parameters = { id = "${NOD_FUZZ_LOGIN_2}" }

[[operations]]
include-path = "/app-api/v1/consents/{client_id}"
parameters = { client_id = "${NOD_FUZZ_CLIENT_ID}" }

[[operations]]
include-path = "/webhooks/v1/webhooks/{id}"
parameters = { id = "${NOD_FUZZ_WEBHOOK}" }

# The demo sales unit and a registered redirect URI, so that authorize checks the rest.
[[operations]]
include-path = "/access-management-1.0/access/oauth2/auth"
parameters = { client_id = "${NOD_FUZZ_CLIENT_ID}", redirect_uri = "http://localhost:3000/callback" }

# A demo user, so that merchant-initiated logins start and the rest is checked.
[[operations]]
include-path-regex = "^/vipps-login-ciba/"
parameters = { "body.login_hint" = "urn:msisdn:${NOD_FUZZ_PHONE}" }
TOML

echo "==> schemathesis $SCHEMATHESIS_VERSION against $base/openapi.json ($EXAMPLES examples an operation)"
started=$SECONDS
status=0
# The app's event stream never ends by itself: left out.
# From the throwaway directory: whatever schemathesis keeps (its example database) goes there.
schemathesis=$(cd "$venv/bin" && pwd)/schemathesis
(cd "$dir" && "$schemathesis" --config-file "$dir/schemathesis.toml" run "$base/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$EXAMPLES" \
  --exclude-path /app-api/v1/events \
  --workers 1 \
  --seed "${API_FUZZ_SEED:-20261126}" \
  --request-timeout 10 \
  --no-color) || status=$?
echo "    schemathesis took $((SECONDS - started)) s"
if [ "$status" -ne 0 ]; then
  echo "==> Nod's log" >&2
  tail -n 50 "$dir/nod.log" >&2
fi
exit "$status"
