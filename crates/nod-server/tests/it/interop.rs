//! Interoperability with a certified relying party: `openid-client` (npm, v6) discovers
//! Nod, builds the authorization URL with PKCE, state and nonce, validates the callback
//! (including RFC 9207 `iss`), redeems the code with `client_secret_basic`, validates the
//! ID token and fetches userinfo. The script `e2e/interop/desktop.mjs` plays the browser
//! over plain HTTP and approves the login through the app API.
//!
//! `e2e/interop/webhooks.mjs` checks the webhooks as a merchant following the Vipps
//! documentation would: it verifies the signature of a Webhooks API event with the
//! documentation's own JavaScript algorithm (node:crypto) and decodes `CONSENT_REVOKED`.
//!
//! Needs Node 20 and `npm ci --prefix e2e`; the test fails, never skips, without them.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// Runs one of the e2e/interop scripts against a running Nod; returns its JSON result.
async fn run_script(app: &TestApp, name: &str) -> Value {
    run_script_with(app, name, &[]).await
}

/// [`run_script`] with more environment variables.
async fn run_script_with(app: &TestApp, name: &str, env: &[(&str, String)]) -> Value {
    let e2e = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e");
    assert!(
        e2e.join("node_modules/openid-client").is_dir(),
        "openid-client is not installed in {}: run `npm ci --prefix e2e` in the workspace root",
        e2e.display()
    );
    let script = e2e.join("interop").join(name);
    let child = tokio::process::Command::new("node")
        .arg(&script)
        .current_dir(&e2e)
        .env("NOD_ISSUER", app.issuer())
        .env("NOD_BASE", &app.base)
        .env("NOD_CLIENT_ID", CLIENT_ID)
        .env("NOD_CLIENT_SECRET", CLIENT_SECRET)
        .env("NOD_REDIRECT_URI", REDIRECT_URI)
        .env("NOD_PHONE", PHONE)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("`node` runs (Node 20 must be on PATH)");
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the openid-client script finishes within 60 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "openid-client failed ({}):\n{stderr}\n{stdout}",
        output.status
    );

    let line = stdout.lines().last().expect("the script prints a result");
    eprintln!("openid-client result: {line}");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("the result is JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn openid_client_completes_the_desktop_login() {
    let app = TestApp::builder().spawn().await;
    let result = run_script(&app, "desktop.mjs").await;
    let sub = result["sub"].as_str().expect("a sub");
    assert!(!sub.is_empty());

    let claims = &result["id_token_claims"];
    assert_eq!(claims["sub"], sub);
    assert_eq!(claims["iss"], app.issuer());
    let aud = &claims["aud"];
    assert!(
        aud == CLIENT_ID
            || aud
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == CLIENT_ID)),
        "aud names the client: {aud}"
    );
    assert_eq!(claims["amr"], serde_json::json!(["app"]));

    let info = &result["userinfo"];
    assert_eq!(info["sub"], sub);
    assert_eq!(info["name"], "Ingrid Solberg");
    assert_eq!(info["email"], "ingrid.solberg@example.no");
    assert_eq!(info["birthdate"], "1958-03-14");
}

/// `initiateBackchannelAuthentication` and `pollBackchannelAuthenticationGrant` against Nod,
/// while the script approves in the app; the ID token carries `auth_req_id`. The clock is
/// the real one here: openid-client waits the interval between polls.
#[tokio::test]
async fn openid_client_completes_a_merchant_initiated_login() {
    let app = TestApp::builder().clock(TestTime::Real).spawn().await;
    let result = run_script(&app, "ciba.mjs").await;
    assert_eq!(result["expires_in"], 600);
    assert_eq!(result["interval"], 5);
    assert_eq!(result["next"]["next"], "done");
    let claims = &result["id_token_claims"];
    assert_eq!(claims["auth_req_id"], result["auth_req_id"]);
    assert_eq!(claims["amr"], serde_json::json!(["app"]));
    let info = &result["userinfo"];
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["name"], "Ingrid Solberg");
    assert_eq!(info["phone_number"], PHONE);
}

/// A port on 127.0.0.1 that was free a moment ago, for the script's receiver (the sales
/// unit's `webhook_url` must name it before Nod starts).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The Node script registers its receiver through the webhooks API, checks the signed
/// `login.merchant-initiated.ping.v1` event exactly as the Vipps sample does, and
/// decodes `CONSENT_REVOKED`.
#[tokio::test]
async fn a_node_receiver_verifies_the_events_as_the_vipps_sample_does() {
    let port = free_port();
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec {
            webhook_url: Some(format!("http://127.0.0.1:{port}/consent")),
            ..SalesUnitSpec::default()
        })
        .spawn()
        .await;
    let result = run_script_with(
        &app,
        "webhooks.mjs",
        &[("NOD_RECEIVER_PORT", port.to_string())],
    )
    .await;
    assert_eq!(result["registered"]["secret_length"], 88);
    assert_eq!(
        result["listed"]["webhooks"][0]["id"],
        result["registered"]["id"]
    );
    let ping = &result["ping"];
    assert_eq!(ping["verified"], true);
    assert_eq!(ping["payload"]["auth_req_id"], result["auth_req_id"]);
    assert_eq!(ping["pathAndQuery"], "/hooks/vipps?shop=nod");
    assert_eq!(ping["host"], format!("127.0.0.1:{port}"));

    let revoked = &result["consent_revoked"];
    assert_eq!(revoked["content_type"], "text/plain");
    assert_eq!(revoked["authorization"], Value::Null);
    assert_eq!(revoked["parts"], 3);
    assert_eq!(revoked["signature"], "");
    assert_eq!(
        revoked["header"],
        serde_json::json!({ "alg": "none", "typ": "JWT" })
    );
    let claims = &revoked["claims"];
    assert_eq!(claims["event"], "CONSENT_REVOKED");
    assert_eq!(claims["sub"], result["userinfo_sub"]);
    assert_eq!(claims["iat"], START);
    assert_eq!(claims["nbf"], START);
    assert_eq!(claims["exp"], START + 300);
}
