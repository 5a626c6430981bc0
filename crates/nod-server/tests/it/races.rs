//! Concurrent answers to one login request: of two answers at the same moment exactly one
//! wins, the other gets 409, and what the merchant and the browser see afterwards is the
//! winner's outcome. Limits on waiting requests hold under concurrent starts.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

const TRIALS: usize = 50;
const START_FORM: &[(&str, &str)] = &[
    ("login_hint", "urn:msisdn:4791234501"),
    ("scope", "openid name"),
];

/// Approve from one of the person's phones and reject from another, at the same moment,
/// on a merchant-initiated request: one wins, the other hears 409, and the merchant's
/// poll reports the winner's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approve_and_reject_at_once_one_wins() {
    let app = many_logins_per_number().spawn().await;
    let merchant = app.merchant();
    let phone_a = app.phone(PHONE).await;
    let phone_b = app.phone(PHONE).await;
    let (mut approvals, mut rejections) = (0, 0);
    for trial in 0..TRIALS {
        let auth_req_id = merchant.ciba_auth_req_id(START_FORM).await;
        let id = phone_a.merchant_initiated().await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (approved, rejected) = tokio::join!(
            phone_a.approve_with(&id, json!({ "consent": true })),
            phone_b.reject(&id),
        );
        let outcome = [approved.status(), rejected.status()];
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
        let (status, body) = merchant.ciba_poll(&auth_req_id).await;
        if outcome[0] == StatusCode::OK {
            approvals += 1;
            assert_eq!(status, 200, "trial {trial}: approved, so tokens: {body}");
            assert!(body["access_token"].is_string());
        } else {
            rejections += 1;
            assert_eq!(body["error"], "access_denied", "trial {trial}: {body}");
        }
        assert!(phone_a.pending().await.is_empty());
    }
    println!("approve won {approvals}, reject won {rejections} of {TRIALS}");
}

/// The right number and a wrong one sent at the same moment (two phones answered): one
/// wins, and the browser sees the winner's outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn right_and_wrong_number_at_once_one_wins() {
    let app = many_logins_per_number().spawn().await;
    let phone_a = app.phone(PHONE).await;
    let phone_b = app.phone(PHONE).await;
    let (mut right_won, mut wrong_won) = (0, 0);
    for trial in 0..TRIALS {
        // The phone form allows a few submissions per address and minute.
        app.advance(61);
        let browser = app.browser();
        let login = browser.start_login("").await;
        let challenge = browser.submit_phone(&login, PHONE, false).await;
        let request = phone_a.pending().await.remove(0);
        let wrong = request["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap() as u8)
            .find(|c| *c != challenge)
            .unwrap();
        let (right, wrong) = tokio::join!(
            phone_a.approve(&login.id, challenge, false),
            phone_b.approve(&login.id, wrong, false),
        );
        let continued = browser.continue_login(&login.id).await;
        let location = location(&continued);
        match (right.status(), wrong.status()) {
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
    // A thousand starts in one minute of the fake clock: the sales unit's own limit is
    // not what this tests.
    let app = TestApp::builder()
        .configure(|c| {
            c.ciba_start_per_client_per_minute = 100_000;
            c.max_requests_per_number_per_10_minutes = 100_000;
        })
        .spawn()
        .await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    for trial in 0..TRIALS {
        let responses =
            futures_util::future::join_all((0..20).map(|_| merchant.ciba_start(START_FORM))).await;
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
        let pending = phone.pending().await;
        assert_eq!(pending.len(), 3, "trial {trial}: three wait in the app");
        for request in pending {
            let rejected = phone.reject(request["id"].as_str().unwrap()).await;
            assert_eq!(rejected.status(), StatusCode::OK);
        }
    }
}

/// Fifty trials for one person in one minute of the fake clock: the limits on how many
/// logins a number gets are not what these tests test.
fn many_logins_per_number() -> TestAppBuilder {
    TestApp::builder().configure(|c| {
        c.max_requests_per_number_per_10_minutes = 100_000;
        c.ciba_start_per_client_per_minute = 100_000;
    })
}
