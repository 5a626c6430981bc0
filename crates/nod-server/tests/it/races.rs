//! Concurrent answers to one login request: of two answers at the same moment exactly one
//! wins, the other gets 409, and what the merchant and the browser see afterwards is the
//! winner's outcome. Limits on waiting requests hold under concurrent starts.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const TRIALS: usize = 50;
const CIBA: &str = "urn:openid:params:grant-type:ciba";

async fn start_ciba(app: &TestApp) -> reqwest::Response {
    app.client()
        .post(app.url(nod_server::paths::CIBA_START))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("login_hint", "urn:msisdn:4791234501"),
            ("scope", "openid name"),
        ])
        .send()
        .await
        .unwrap()
}

async fn answer(app: &TestApp, device: &str, id: &str, verb: &str, body: Value) -> StatusCode {
    app.client()
        .post(app.url(&format!("/app-api/v1/login-requests/{id}/{verb}")))
        .bearer_auth(device)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

/// Approve from one of the person's phones and reject from another, at the same moment,
/// on a merchant-initiated request: one wins, the other hears 409, and the merchant's
/// poll reports the winner's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approve_and_reject_at_once_one_wins() {
    let app = TestApp::spawn().await;
    let phone_a = app.device(PHONE).await;
    let phone_b = app.device(PHONE).await;
    let (mut approvals, mut rejections) = (0, 0);
    for trial in 0..TRIALS {
        let started: Value = start_ciba(&app).await.json().await.unwrap();
        let auth_req_id = started["auth_req_id"].as_str().unwrap();
        let pending = app.pending(&phone_a).await;
        let id = pending[0]["id"].as_str().unwrap();
        let (approved, rejected) = tokio::join!(
            answer(&app, &phone_a, id, "approve", json!({ "consent": true })),
            answer(&app, &phone_b, id, "reject", json!({})),
        );
        let outcome = [approved, rejected];
        assert_eq!(
            outcome.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "trial {trial}: exactly one answer wins: {outcome:?}"
        );
        assert_eq!(
            outcome
                .iter()
                .filter(|s| **s == StatusCode::CONFLICT)
                .count(),
            1,
            "trial {trial}: the other is told 409: {outcome:?}"
        );
        let poll = app
            .token(&[("grant_type", CIBA), ("auth_req_id", auth_req_id)])
            .await;
        let status = poll.status();
        let body: Value = poll.json().await.unwrap();
        if approved == StatusCode::OK {
            approvals += 1;
            assert_eq!(status, 200, "trial {trial}: approved, so tokens: {body}");
            assert!(body["access_token"].is_string());
        } else {
            rejections += 1;
            assert_eq!(body["error"], "access_denied", "trial {trial}: {body}");
        }
        assert!(app.pending(&phone_a).await.is_empty());
    }
    println!("approve won {approvals}, reject won {rejections} of {TRIALS}");
}

/// The right number and a wrong one sent at the same moment (the person tapped twice,
/// or two phones answered): one wins, and the browser sees the winner's outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn right_and_wrong_number_at_once_one_wins() {
    let app = TestApp::spawn().await;
    let phone_a = app.device(PHONE).await;
    let phone_b = app.device(PHONE).await;
    let (mut right_won, mut wrong_won) = (0, 0);
    for trial in 0..TRIALS {
        // The phone form allows a few submissions per address and minute.
        app.clock.advance(61);
        let browser = app.browser();
        let (id, csrf) = start_login(&app, &browser, "").await;
        let challenge = submit_phone(&app, &browser, &id, &csrf, PHONE, false).await;
        let pending = app.pending(&phone_a).await;
        let choices: Vec<u8> = pending[0]["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap() as u8)
            .collect();
        let wrong = *choices.iter().find(|c| **c != challenge).unwrap();
        let (right, wrong) = tokio::join!(
            answer(
                &app,
                &phone_a,
                &id,
                "approve",
                json!({ "challenge": challenge })
            ),
            answer(
                &app,
                &phone_b,
                &id,
                "approve",
                json!({ "challenge": wrong })
            ),
        );
        let continued = browser
            .get(app.url(&format!("/login/{id}/continue")))
            .send()
            .await
            .unwrap();
        let location = location(&continued);
        match (right, wrong) {
            (StatusCode::OK, StatusCode::CONFLICT) => {
                right_won += 1;
                assert!(
                    location.ends_with("/consent") || location.contains("code="),
                    "trial {trial}: the right number won, so the login goes on: {location}"
                );
            }
            (StatusCode::CONFLICT, StatusCode::BAD_REQUEST) => {
                wrong_won += 1;
                assert_eq!(
                    query(&location)["error"],
                    "wrong_challenge",
                    "trial {trial}: the wrong number won: {location}"
                );
            }
            other => panic!("trial {trial}: exactly one answer wins, got {other:?}"),
        }
    }
    println!("right number won {right_won}, wrong number won {wrong_won} of {TRIALS}");
}

/// Twenty merchant-initiated starts for one person at the same moment: exactly the
/// limit (3) go through, the rest are told 429 with `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_starts_hold_the_pending_limit() {
    let app = TestApp::spawn().await;
    let phone = app.device(PHONE).await;
    for trial in 0..TRIALS {
        let responses = futures_util::future::join_all((0..20).map(|_| start_ciba(&app))).await;
        let ok = responses.iter().filter(|r| r.status() == 200).count();
        let limited: Vec<_> = responses
            .iter()
            .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
            .collect();
        assert_eq!(ok, 3, "trial {trial}: the limit is 3");
        assert_eq!(limited.len(), 17, "trial {trial}");
        assert!(
            limited
                .iter()
                .all(|r| r.headers().contains_key("retry-after"))
        );
        let pending = app.pending(&phone).await;
        assert_eq!(pending.len(), 3, "trial {trial}: three wait in the app");
        for request in pending {
            let id = request["id"].as_str().unwrap();
            assert_eq!(
                answer(&app, &phone, id, "reject", json!({})).await,
                StatusCode::OK
            );
        }
    }
}
