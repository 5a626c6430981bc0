//! The audit log: every security event a person's logins, consents, browsers and apps go
//! through is written, with who and which sales unit; old entries go with the purge.

use std::sync::Arc;

use nod_server::{App, ServerConfig, TestClock};
use nod_store::{AuditEntry, AuditEvent};
use uuid::Uuid;

use crate::support::*;

/// The person's entries, oldest first: (event, client id, detail).
async fn entries_of(app: &TestApp, user_id: Uuid) -> Vec<(String, Option<String>, String)> {
    let mut entries: Vec<AuditEntry> = app
        .store
        .list_audit(None, Some(user_id), 1000)
        .await
        .unwrap();
    entries.reverse();
    entries
        .into_iter()
        .map(|e| {
            assert_eq!(e.user_id, Some(user_id));
            (e.event, e.client_id, e.detail)
        })
        .collect()
}

fn events(entries: &[(String, Option<String>, String)]) -> Vec<&str> {
    entries.iter().map(|(event, ..)| event.as_str()).collect()
}

#[tokio::test]
async fn each_security_event_of_a_person_is_in_the_audit_log() {
    let app = TestApp::builder().spawn().await;
    let user = app.store.get_user_by_phone(PHONE).await.unwrap().unwrap();
    let phone = app.phone(PHONE).await;
    let entries = entries_of(&app, user.id).await;
    assert_eq!(events(&entries), ["device_registered"]);

    // Confirmed in the app, with consent, in a browser to remember.
    let browser = app.browser();
    let (_, response) = log_in(&browser, &phone, "", true).await;
    code_of(&response);
    let entries = entries_of(&app, user.id).await;
    assert_eq!(
        events(&entries[1..]),
        [
            "login_confirmed",
            "login_completed",
            "consent_given",
            "browser_remembered"
        ]
    );
    assert!(
        entries[1..]
            .iter()
            .all(|(_, client, _)| client.as_deref() == Some(CLIENT_ID))
    );
    assert_eq!(entries[3].2, "name", "the scopes consented to");

    // Rejected in the app.
    let other = app.browser();
    let login = other.start_login("").await;
    other.submit_phone(&login, PHONE, false).await;
    assert_eq!(phone.reject(&login.id).await.status(), 200);
    let entries = entries_of(&app, user.id).await;
    assert_eq!(events(&entries[5..]), ["login_rejected"]);
    assert_eq!(entries[5].1.as_deref(), Some(CLIENT_ID));

    // Cancelled in the browser while the app is asked.
    let login = other.start_login("").await;
    other.submit_phone(&login, PHONE, false).await;
    let response = other.cancel(&login).await;
    assert_eq!(
        redirect_error(&response),
        (reqwest::StatusCode::SEE_OTHER, "access_denied".into())
    );
    let entries = entries_of(&app, user.id).await;
    assert_eq!(events(&entries[6..]), ["login_cancelled"]);

    // The remembered browser forgotten, the consent revoked, from the app.
    let browser_id = phone.browsers().await["browsers"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(phone.forget_browser(&browser_id).await.status(), 204);
    assert_eq!(phone.revoke_consent(CLIENT_ID).await.status(), 204);
    let entries = entries_of(&app, user.id).await;
    assert_eq!(
        events(&entries[7..]),
        ["browser_forgotten", "consent_revoked"]
    );
    assert_eq!(entries[8].1.as_deref(), Some(CLIENT_ID));

    // Nobody else's entries name this person, and no entry holds a phone number.
    let all = app.store.list_audit(None, None, 1000).await.unwrap();
    assert!(all.iter().all(|e| !e.detail.contains(PHONE)));
}

#[tokio::test]
async fn the_purge_deletes_audit_entries_past_the_retention() {
    let app = TestApp::builder().spawn().await;
    for (at, event) in [
        (START - 31 * 86_400, "login_confirmed"),
        (START - 29 * 86_400, "consent_given"),
        (START, "key_rotated"),
    ] {
        let entry = AuditEvent {
            at,
            event,
            user_id: None,
            client_id: None,
            detail: "",
        };
        app.store.record_audit(&entry).await.unwrap();
    }
    // Another instance on the database, keeping entries 30 days, runs the purge.
    let config = ServerConfig {
        audit_retention_days: 30,
        ..ServerConfig::default()
    };
    let purger = App::new(config, app.store.clone(), Arc::new(TestClock::new(START)))
        .await
        .unwrap();
    purger.service.purge_expired().await.unwrap();
    let left: Vec<String> = app
        .store
        .list_audit(None, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(left, ["key_rotated", "consent_given"]);
}
