//! The person's registered apps: listed, logged out (a lost phone) from another app or by
//! the operator, and expired when unused.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// Registers an app for [`PHONE`] with this name; returns its token and id.
async fn register(app: &TestApp, name: Option<&str>) -> (String, String) {
    let mut body = json!({ "phone_number": PHONE });
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    let response = app.unregistered_phone().register(body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.unwrap();
    (
        body["device_token"].as_str().unwrap().to_owned(),
        body["device_id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_lost_phone_is_logged_out_from_another() {
    let app = TestApp::builder().spawn().await;
    let (lost_token, lost_id) = register(&app, Some("Old phone")).await;
    app.advance(60);
    let (new_token, new_id) = register(&app, Some("  New phone ")).await;
    let lost = app.phone_with_token(&lost_token);
    let new = app.phone_with_token(&new_token);
    let someone_else = app.phone(OTHER_PHONE).await;

    let listed = new.devices().await;
    let devices = listed["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{listed}");
    assert_eq!(devices[0]["name"], "New phone", "newest first, trimmed");
    assert_eq!(devices[0]["current"], true);
    assert_eq!(devices[1]["id"], lost_id.as_str());
    assert_eq!(devices[1]["current"], false);
    assert_eq!(devices[1]["last_used_at"], devices[1]["created_at"]);
    assert!(devices[1]["expires_at"].as_i64() > devices[1]["created_at"].as_i64());

    // The lost phone's open event stream ends when it is logged out.
    let mut stream = lost.events().await;
    read_events_until(&mut stream, "event: ready").await;

    // Not another person's app, nor a malformed or unknown id.
    for (phone, id) in [
        (&someone_else, lost_id.as_str()),
        (&new, "not-a-uuid"),
        (&new, "00000000-0000-0000-0000-000000000000"),
    ] {
        let (status, error) = status_and_error(phone.revoke_device(id).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::NOT_FOUND, "invalid_request"),
            "{id}"
        );
    }
    assert_eq!(lost.login_requests().await.status(), StatusCode::OK);

    assert_eq!(
        new.revoke_device(&lost_id).await.status(),
        StatusCode::NO_CONTENT
    );
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the logged-out app's stream ends");
    let response = lost.login_requests().await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(
        new.revoke_device(&lost_id).await.status(),
        StatusCode::NOT_FOUND,
        "once"
    );
    assert_eq!(new.devices().await["devices"].as_array().unwrap().len(), 1);

    // An app may log itself out.
    assert_eq!(
        new.revoke_device(&new_id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        new.login_requests().await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Both logouts are in the audit log, with the app and who did it.
    let revoked: Vec<String> = app
        .store
        .list_audit(None, None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "device_revoked")
        .map(|e| e.detail)
        .collect();
    assert_eq!(
        revoked,
        [format!("{new_id} by app"), format!("{lost_id} by app")],
        "newest first"
    );
}

#[tokio::test]
async fn a_logged_out_app_gets_no_login_requests() {
    let app = TestApp::builder().spawn().await;
    let (token, id) = register(&app, None).await;
    let lost = app.phone_with_token(&token);
    let kept = app.phone(PHONE).await;
    assert_eq!(
        kept.revoke_device(&id).await.status(),
        StatusCode::NO_CONTENT
    );
    let browser = app.browser();
    let login = browser.start_login("").await;
    let number = browser.submit_phone(&login, PHONE, false).await;
    assert_eq!(
        lost.approve(&login.id, number, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(kept.pending().await.len(), 1);
}

#[tokio::test]
async fn an_unused_app_expires_and_each_day_of_use_keeps_it() {
    let app = TestApp::builder()
        .configure(|c| c.device_idle_days = 2)
        .spawn()
        .await;
    let (token, _) = register(&app, None).await;
    let phone = app.phone_with_token(&token);
    let created = phone.devices().await["devices"][0].clone();

    // Used within the day: nothing is written, the expiry stays.
    app.advance(3_600);
    assert_eq!(phone.devices().await["devices"][0], created);

    // Used a day and a half later: the expiry moves on two days from then.
    app.advance(126_000);
    let used = phone.devices().await["devices"][0].clone();
    let last_used = used["last_used_at"].as_i64().unwrap();
    assert_eq!(last_used, created["created_at"].as_i64().unwrap() + 129_600);
    assert_eq!(used["expires_at"].as_i64().unwrap(), last_used + 172_800);

    // Two days without use: the token no longer works.
    app.advance(172_800);
    assert_eq!(
        phone.login_requests().await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_device_name_is_checked() {
    let app = TestApp::builder().spawn().await;
    for name in [json!("x".repeat(65)), json!("bell\u{7}"), json!(42)] {
        let response = app
            .unregistered_phone()
            .register(json!({ "phone_number": PHONE, "name": name }))
            .await;
        assert_eq!(
            status_and_error(response).await,
            (StatusCode::BAD_REQUEST, "invalid_request".to_owned()),
            "{name}"
        );
    }
    // Blank is no name.
    let (token, _) = register(&app, Some("   ")).await;
    let listed = app.phone_with_token(&token).devices().await;
    assert_eq!(listed["devices"][0]["name"], serde_json::Value::Null);
}
