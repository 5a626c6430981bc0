//! Signing key rotation while the server runs: the new key is in the JWKS before it
//! signs, ID tokens the old key signed verify against the JWKS until they have expired,
//! then the old key leaves it; every instance on the database follows.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use nod_core::signing::SigningAlg;
use nod_server::{ServerConfig, keys, paths};
use serde_json::Value;

use crate::support::*;

/// Instances reread the keys every second.
fn reload_often(config: &mut ServerConfig) {
    config.key_reload_interval = 1;
}

/// The ID token of a new login of the phone's owner at `shop`.
async fn id_token(app: &TestApp, browser: &Browser, phone: &Phone) -> String {
    let (_, response) = log_in(browser, phone, "", false).await;
    let tokens = app.merchant().tokens(&code_of(&response), None).await;
    tokens["id_token"].as_str().unwrap().to_owned()
}

async fn jwks(app: &TestApp) -> Value {
    let response = app.client().get(app.url(paths::JWKS)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn kid_of(token: &str) -> String {
    decode_header(token).unwrap().kid.unwrap()
}

/// Verifies an ID token as a client does: with the key its header names, from the JWKS
/// the server publishes now.
async fn verify(app: &TestApp, token: &str) -> Result<Value, String> {
    let set: JwkSet = serde_json::from_value(jwks(app).await).unwrap();
    let header = decode_header(token).map_err(|e| e.to_string())?;
    let jwk = set
        .find(header.kid.as_deref().unwrap_or_default())
        .ok_or("the key is not in the JWKS")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&[app.issuer()]);
    decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// Waits (at most 5 s) until the JWKS has these keys.
async fn until_published(app: &TestApp, expected: &[String]) {
    for _ in 0..100 {
        if kids(&jwks(app).await) == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the JWKS never had {expected:?}: {}", jwks(app).await);
}

async fn algorithms(app: &TestApp) -> Value {
    app.merchant().discovery().await["id_token_signing_alg_values_supported"].clone()
}

#[tokio::test]
async fn a_rotated_key_is_published_before_it_signs_and_the_old_one_until_its_tokens_expire() {
    let app = TestApp::builder().configure(reload_often).spawn().await;
    let phone = app.phone(PHONE).await;
    let browser = app.browser();
    let first = id_token(&app, &browser, &phone).await;
    let old = kid_of(&first);
    assert_eq!(kids(&jwks(&app).await), std::slice::from_ref(&old));
    assert_eq!(algorithms(&app).await, serde_json::json!(["RS256"]));

    // Rotated while the server runs (as `nod keys rotate` does it).
    let keep_after = keys::keep_after(ServerConfig::default().id_token_lifetime);
    let rotation = keys::rotate(
        app.store.as_ref(),
        SigningAlg::Es256,
        START,
        3600,
        keep_after,
    )
    .await
    .unwrap();
    let new = rotation.key.kid.clone();
    assert_eq!(rotation.retire_at, START + 3600 + keep_after);
    until_published(&app, &[old.clone(), new.clone()]).await;
    assert_eq!(
        algorithms(&app).await,
        serde_json::json!(["RS256", "ES256"])
    );

    // Published, not signing yet.
    let second = id_token(&app, &browser, &phone).await;
    assert_eq!(kid_of(&second), old);
    app.advance(3599);
    let last_of_old = id_token(&app, &browser, &phone).await;
    assert_eq!(kid_of(&last_of_old), old);

    // Signing now, with ES256, and clients verify it with the JWKS.
    app.advance(1);
    let third = id_token(&app, &browser, &phone).await;
    assert_eq!(kid_of(&third), new);
    assert_eq!(decode_header(&third).unwrap().alg, Algorithm::ES256);
    assert_eq!(
        verify(&app, &third).await.unwrap()["aud"],
        serde_json::json!([CLIENT_ID])
    );
    for token in [&first, &second, &last_of_old] {
        assert!(
            verify(&app, token).await.is_ok(),
            "the old key's tokens verify"
        );
    }

    // The old key's last token expires (with the leeway); then the key is gone.
    app.advance(keep_after - 1);
    assert_eq!(kids(&jwks(&app).await), [old.clone(), new.clone()]);
    assert!(verify(&app, &last_of_old).await.is_ok());
    app.advance(1);
    assert_eq!(kids(&jwks(&app).await), std::slice::from_ref(&new));
    assert_eq!(
        verify(&app, &last_of_old).await.unwrap_err(),
        "the key is not in the JWKS"
    );
    assert!(verify(&app, &third).await.is_ok());
    assert_eq!(kid_of(&id_token(&app, &browser, &phone).await), new);

    // The rotation is in the audit log.
    let entries = app.store.list_audit(None, None, 1000).await.unwrap();
    let rotated: Vec<_> = entries
        .iter()
        .filter(|e| e.event == "key_rotated")
        .collect();
    assert_eq!(rotated.len(), 1);
    assert_eq!(rotated[0].at, START);
    assert_eq!(rotated[0].detail, format!("{new} ES256"));
}

#[tokio::test]
async fn every_instance_publishes_a_rotated_key_and_signs_with_it_at_the_same_time() {
    let a = TestApp::builder().configure(reload_often).spawn().await;
    let b = a.another_instance(&[reload_often]).await;
    let old = kids(&jwks(&a).await);
    assert_eq!(kids(&jwks(&b).await), old, "one key for both");

    let keep_after = keys::keep_after(ServerConfig::default().id_token_lifetime);
    let rotation = keys::rotate(a.store.as_ref(), SigningAlg::EdDsa, START, 600, keep_after)
        .await
        .unwrap();
    let both = [old[0].clone(), rotation.key.kid.clone()];
    until_published(&a, &both).await;
    until_published(&b, &both).await;

    let phone = a.phone(PHONE).await;
    let browser = b.browser();
    let before = id_token(&b, &browser, &phone).await;
    assert_eq!(kid_of(&before), old[0]);
    a.advance(600);
    // B signs with the new key; A's JWKS verifies it.
    let after = id_token(&b, &browser, &phone).await;
    assert_eq!(kid_of(&after), rotation.key.kid);
    assert_eq!(decode_header(&after).unwrap().alg, Algorithm::EdDSA);
    let set: JwkSet = serde_json::from_value(jwks(&a).await).unwrap();
    let key = DecodingKey::from_jwk(set.find(&rotation.key.kid).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[CLIENT_ID]);
    validation.validate_aud = true;
    let claims = decode::<Value>(&after, &key, &validation).unwrap().claims;
    assert_eq!(claims["iss"], b.issuer());
    assert_eq!(algorithms(&a).await, serde_json::json!(["RS256", "EdDSA"]));
}

#[tokio::test]
async fn nod_keys_rotate_reaches_every_process_on_postgres() {
    let Some(builder) = TestApp::builder().clock(TestTime::Real).on_postgres() else {
        return;
    };
    let instances = builder.spawn_processes(2).await;
    let old = kids(&jwks(&instances.each[0]).await);
    assert_eq!(old.len(), 1);
    let database = instances.database_url();
    let out = std::process::Command::new(nod_binary())
        .args(["--database", &database, "keys", "rotate", "--alg", "ES256"])
        .args(["--publish-before", "3", "--json"])
        .env_remove("NOD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated: Value = serde_json::from_slice(&out.stdout).unwrap();
    let new = rotated["kid"].as_str().unwrap().to_owned();
    let both = [old[0].clone(), new.clone()];
    for instance in &instances.each {
        until_published(instance, &both).await;
    }
    // Once its time has come, both instances sign with it; the old key stays published.
    let active_from = rotated["active_from"].as_i64().unwrap();
    let now = nod_server::Clock::now(&nod_server::SystemClock);
    tokio::time::sleep(std::time::Duration::from_secs(
        u64::try_from(active_from + 1 - now).unwrap_or(0),
    ))
    .await;
    let phone = instances.each[1].phone(PHONE).await;
    for instance in &instances.each {
        let token = id_token(instance, &instance.browser(), &phone).await;
        assert_eq!(kid_of(&token), new);
        assert_eq!(decode_header(&token).unwrap().alg, Algorithm::ES256);
        let claims = verify(&instances.app, &token).await.unwrap();
        assert_eq!(claims["aud"], serde_json::json!([CLIENT_ID]));
        assert_eq!(kids(&jwks(instance).await), both);
    }
}

#[tokio::test]
async fn the_first_key_has_the_configured_algorithm() {
    let app = TestApp::builder()
        .configure(|config| config.signing_alg = SigningAlg::EdDsa)
        .spawn()
        .await;
    let published = jwks(&app).await;
    assert_eq!(published["keys"][0]["kty"], "OKP");
    assert_eq!(published["keys"][0]["crv"], "Ed25519");
    assert_eq!(published["keys"][0]["alg"], "EdDSA");
    assert_eq!(
        algorithms(&app).await,
        serde_json::json!(["RS256", "EdDSA"])
    );
    let phone = app.phone(PHONE).await;
    let token = id_token(&app, &app.browser(), &phone).await;
    assert_eq!(decode_header(&token).unwrap().alg, Algorithm::EdDSA);
    assert!(verify(&app, &token).await.is_ok());
}
