//! Faults on PostgreSQL with two `nod serve` processes behind a balancer: the database
//! restarts, then an instance is killed (`SIGKILL`), while logins go on. No answer is a
//! 500; every answer the outage cut short is a 503 with `Retry-After`; `/health/ready`
//! says not ready while the database is down and ready after; nothing stored before is
//! lost; and new logins succeed afterwards, with no one restarting anything.
//!
//! The same logins go on while the only instance is killed and started again, on SQLite
//! or PostgreSQL (crash safety).
//!
//! The PostgreSQL test is ignored in the normal run: it restarts the cluster every other
//! test uses.
//! `scripts/test.sh` runs it alone, on its own cluster (`NOD_TEST_POSTGRES_DIR`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nod_server::paths;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const PEOPLE: [&str; 2] = ["4791234502", "4791234503"];

/// What the logins of a test saw, by the balancer's address: the access tokens the
/// merchant received (committed before they were sent), and the browser logins and
/// merchant-initiated requests started (some of them cut short).
#[derive(Default, Clone)]
struct Seen {
    tokens: Vec<String>,
    browser_logins: Vec<String>,
    auth_req_ids: Vec<String>,
}

static SEEN: std::sync::Mutex<Vec<(String, Seen)>> = std::sync::Mutex::new(Vec::new());

fn seen(app: &TestApp, record: impl FnOnce(&mut Seen)) {
    let mut all = SEEN.lock().unwrap();
    if let Some((_, s)) = all.iter_mut().find(|(base, _)| *base == app.base) {
        record(s);
    } else {
        let mut s = Seen::default();
        record(&mut s);
        all.push((app.base.clone(), s));
    }
}

fn seen_by(app: &TestApp) -> Seen {
    let mut all = SEEN.lock().unwrap();
    all.iter_mut()
        .find(|(base, _)| *base == app.base)
        .map(|(_, s)| std::mem::take(s))
        .unwrap_or_default()
}

/// How a login ended.
#[derive(Debug)]
#[expect(
    dead_code,
    reason = "the steps are read through Debug, in the test's output"
)]
enum Ended {
    Completed,
    /// An answer that is not the next step's: the step, its status and whether it said
    /// when to try again.
    Refused {
        step: &'static str,
        status: StatusCode,
        retry_after: bool,
    },
    /// No answer: the connection broke (the instance was killed).
    Interrupted {
        step: &'static str,
    },
}

impl Ended {
    /// An answer a client can act on: success, a 4xx, or a 503 that says when to retry.
    fn is_clear(&self) -> bool {
        match self {
            Ended::Completed | Ended::Interrupted { .. } => true,
            Ended::Refused {
                status,
                retry_after,
                ..
            } => {
                status.is_client_error()
                    || (*status == StatusCode::SERVICE_UNAVAILABLE && *retry_after)
            }
        }
    }
}

/// Sends a step; its response when the status is `expected`.
async fn step(
    name: &'static str,
    request: RequestBuilder,
    expected: StatusCode,
) -> Result<reqwest::Response, Ended> {
    let response = request
        .send()
        .await
        .map_err(|_| Ended::Interrupted { step: name })?;
    if response.status() == expected {
        Ok(response)
    } else {
        Err(Ended::Refused {
            step: name,
            status: response.status(),
            retry_after: response.headers().contains_key("retry-after"),
        })
    }
}

async fn text(name: &'static str, response: reqwest::Response) -> Result<String, Ended> {
    response
        .text()
        .await
        .map_err(|_| Ended::Interrupted { step: name })
}

async fn json_of(name: &'static str, response: reqwest::Response) -> Result<Value, Ended> {
    response
        .json()
        .await
        .map_err(|_| Ended::Interrupted { step: name })
}

fn header_location(response: &reqwest::Response) -> String {
    location(response)
}

/// A desktop login, every request on its own connection (so on the next instance).
async fn desktop(app: &TestApp, phone: &Phone, merchant: &reqwest::Client) -> Result<(), Ended> {
    let browser = app.browser();
    let client = browser.client();
    let ok = StatusCode::OK;
    let see_other = StatusCode::SEE_OTHER;
    let r = step("authorize", client.get(app.authorize_url("")), see_other).await?;
    let page = header_location(&r);
    let id = login_id_of(&page).unwrap_or_default().to_owned();
    seen(app, |s| s.browser_logins.push(id.clone()));
    let r = step("login page", client.get(app.url(&page)), ok).await?;
    let html = text("login page", r).await?;
    let csrf = between(&html, "name=\"csrf\" value=\"", "\"").unwrap_or_default();
    let form = [("csrf", csrf.as_str()), ("phone_number", phone.number())];
    let phone_form = client.post(app.url(&login_path(&id, "phone"))).form(&form);
    step("phone form", phone_form, see_other).await?;
    let r = step(
        "waiting page",
        client.get(app.url(&login_path(&id, "wait"))),
        ok,
    )
    .await?;
    let html = text("waiting page", r).await?;
    let number: u8 = html
        .find("id=\"challenge\"")
        .and_then(|i| between(&html[i..], ">", "<"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_default();
    let approve = phone
        .request(Method::POST, &format!("/login-requests/{id}/approve"))
        .json(&json!({ "challenge": number, "remember_browser": false }));
    step("approve", approve, ok).await?;
    let r = step(
        "continue",
        client.get(app.url(&login_path(&id, "continue"))),
        see_other,
    )
    .await?;
    let code = query(&header_location(&r))
        .get("code")
        .cloned()
        .unwrap_or_default();
    let token = merchant
        .post(app.url(paths::TOKEN))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
        ]);
    let tokens = json_of("token", step("token", token, ok).await?).await?;
    userinfo(app, merchant, &tokens).await
}

/// A merchant-initiated login: started, approved in the app, polled, userinfo.
async fn ciba(app: &TestApp, phone: &Phone, merchant: &reqwest::Client) -> Result<(), Ended> {
    let ok = StatusCode::OK;
    let hint = format!("urn:msisdn:{}", phone.number());
    // The app approves the request with this start's binding message, not one an
    // interrupted login left waiting.
    let binding = format!("F-{:06}", next_binding_number());
    let start = merchant
        .post(app.url(paths::CIBA_START))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("login_hint", hint.as_str()),
            ("scope", "openid name"),
            ("binding_message", binding.as_str()),
        ]);
    let started = json_of("ciba start", step("ciba start", start, ok).await?).await?;
    let auth_req_id = started["auth_req_id"].as_str().unwrap_or_default();
    seen(app, |s| s.auth_req_ids.push(auth_req_id.to_owned()));
    let listed = step("pending", phone.request(Method::GET, "/login-requests"), ok).await?;
    let listed = json_of("pending", listed).await?;
    let id = listed["login_requests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["kind"] == "merchant_initiated" && r["binding_message"] == binding.as_str())
        .and_then(|r| r["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let approve = phone
        .request(Method::POST, &format!("/login-requests/{id}/approve"))
        .json(&json!({ "consent": true }));
    step("approve", approve, ok).await?;
    let poll = merchant
        .post(app.url(paths::TOKEN))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", CIBA_GRANT), ("auth_req_id", auth_req_id)]);
    let tokens = json_of("ciba poll", step("ciba poll", poll, ok).await?).await?;
    userinfo(app, merchant, &tokens).await
}

/// Six digits that differ from one merchant-initiated start to the next.
fn next_binding_number() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed) % 1_000_000
}

async fn userinfo(app: &TestApp, merchant: &reqwest::Client, tokens: &Value) -> Result<(), Ended> {
    let access_token = tokens["access_token"].as_str().unwrap_or_default();
    seen(app, |s| s.tokens.push(access_token.to_owned()));
    let request = merchant
        .get(app.url(paths::USERINFO))
        .bearer_auth(access_token);
    let info = json_of("userinfo", step("userinfo", request, StatusCode::OK).await?).await?;
    if info["sub"].is_string() {
        Ok(())
    } else {
        Err(Ended::Refused {
            step: "userinfo",
            status: StatusCode::OK,
            retry_after: false,
        })
    }
}

/// One desktop and one merchant-initiated login.
async fn both(app: &TestApp, phone: &Phone, merchant: &reqwest::Client) -> [Ended; 2] {
    let desktop = desktop(app, phone, merchant)
        .await
        .err()
        .unwrap_or(Ended::Completed);
    let ciba = ciba(app, phone, merchant)
        .await
        .err()
        .unwrap_or(Ended::Completed);
    [desktop, ciba]
}

/// Desktop and merchant-initiated logins, on and on, one task per person, until stopped.
struct Logins {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<Ended>>>,
}

impl Logins {
    fn start(app: &Arc<TestApp>, phones: &[Arc<Phone>], merchant: &reqwest::Client) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = phones
            .iter()
            .map(|phone| {
                let (app, phone, merchant, stop) =
                    (app.clone(), phone.clone(), merchant.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut ended = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        ended.extend(both(&app, &phone, &merchant).await);
                    }
                    ended
                })
            })
            .collect();
        Logins { stop, tasks }
    }

    /// Stops them; how each login ended.
    async fn stop(self) -> Vec<Ended> {
        self.stop.store(true, Ordering::Relaxed);
        let mut ended = Vec::new();
        for task in self.tasks {
            ended.extend(task.await.unwrap());
        }
        ended
    }
}

/// What must outlive any fault: every user, sales unit, consent, signing key, webhook
/// registration and remembered browser, by id.
async fn stored(app: &TestApp, now: i64) -> BTreeSet<String> {
    let store = &app.store;
    let mut all = BTreeSet::new();
    for unit in store.list_sales_units().await.unwrap() {
        all.insert(format!("sales unit {}", unit.client_id));
        for hook in store.list_webhooks(&unit.client_id).await.unwrap() {
            all.insert(format!("webhook {}", hook.id));
        }
    }
    for key in store.list_signing_keys().await.unwrap() {
        all.insert(format!("key {}", key.kid));
    }
    for phone in PEOPLE.iter().chain(&[PHONE]) {
        let user = store.get_user_by_phone(phone).await.unwrap().unwrap();
        all.insert(format!("user {}", user.id));
        for consent in store.list_consents(user.id).await.unwrap() {
            all.insert(format!("consent {} {}", user.id, consent.client_id));
        }
        for browser in store.list_browsers(user.id, now).await.unwrap() {
            all.insert(format!("browser {}", browser.id));
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "restarts PostgreSQL: scripts/test.sh runs it alone"]
async fn postgres_restarts_and_an_instance_dies_in_the_middle_of_logins() {
    let Some(cluster) = std::env::var_os("NOD_TEST_POSTGRES_DIR") else {
        eprintln!("skipped: NOD_TEST_POSTGRES_DIR names no cluster of scripts/pg-cluster.sh");
        return;
    };
    let Some(builder) = TestApp::builder().clock(TestTime::Real).on_postgres() else {
        return;
    };
    let mut instances = builder.spawn_processes(2).await;
    let app = instances.app.clone();
    let merchant_client = app.client();

    // What must survive: a remembered browser and consent, a webhook registration.
    let first = app.phone(PHONE).await;
    let browser = app.browser();
    let (_, response) = log_in(&browser, &first, "", true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let merchant = app.merchant();
    let token = merchant.access_token().await;
    merchant
        .registered_webhook(
            &token,
            "https://shop.example/hooks",
            &["login.merchant-initiated.ping.v1"],
        )
        .await;
    let mut phones = Vec::new();
    for number in PEOPLE {
        let phone = app.phone(number).await;
        // Consent given once, so later logins show no consent page.
        let (_, response) = log_in(&app.browser(), &phone, "", false).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        phones.push(Arc::new(phone));
    }
    // Every remembered browser: none expired at time 0.
    let before = stored(&app, 0).await;
    assert!(
        before.iter().any(|s| s.starts_with("browser ")),
        "{before:?}"
    );
    assert!(
        before.iter().any(|s| s.starts_with("webhook ")),
        "{before:?}"
    );

    // Logins, on and on, one person per task.
    let logins = Logins::start(&app, &phones, &merchant_client);
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The database goes away for a second and comes back.
    let restart = tokio::task::spawn_blocking({
        let cluster = cluster.clone();
        move || {
            std::process::Command::new("scripts/pg-cluster.sh")
                .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
                .arg("restart")
                .arg(&cluster)
                .arg("2")
                .status()
                .unwrap()
        }
    });
    let health = reqwest::Client::new();
    let ready = format!("{}/health/ready", instances.direct[1]);
    let mut saw_not_ready = false;
    while !restart.is_finished() {
        if let Ok(r) = health.get(&ready).send().await
            && r.status() == StatusCode::SERVICE_UNAVAILABLE
        {
            saw_not_ready = true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(restart.await.unwrap().success(), "the restart failed");
    assert!(
        saw_not_ready,
        "/health/ready never said not ready while the database was down"
    );
    for base in &instances.direct {
        wait_ready(base).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // An instance dies; the balancer sends everything to the other.
    instances.kill(0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ended = logins.stop().await;
    let completed = ended
        .iter()
        .filter(|e| matches!(e, Ended::Completed))
        .count();
    let unclear: Vec<&Ended> = ended.iter().filter(|e| !e.is_clear()).collect();
    eprintln!(
        "{} logins: {completed} completed, {} refused, {} interrupted",
        ended.len(),
        ended
            .iter()
            .filter(|e| matches!(e, Ended::Refused { .. }))
            .count(),
        ended
            .iter()
            .filter(|e| matches!(e, Ended::Interrupted { .. }))
            .count(),
    );
    for e in ended.iter().filter(|e| !matches!(e, Ended::Completed)) {
        eprintln!("  {e:?}");
    }
    assert!(
        unclear.is_empty(),
        "answers that were not clear: {unclear:?}"
    );
    assert!(completed > 10, "only {completed} logins completed");

    // Nothing stored before is gone, and new logins succeed with nobody's help.
    let after = stored(&app, 0).await;
    let lost: Vec<&String> = before.difference(&after).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    for phone in &phones {
        for e in both(&app, phone, &merchant_client).await {
            assert!(matches!(e, Ended::Completed), "after the faults: {e:?}");
        }
    }
    drop(instances);
}

/// Crash safety: the only instance is killed (`SIGKILL`) three times in the middle of
/// desktop and merchant-initiated logins, and started again on the same database. Every
/// access token a merchant received still works, nothing stored before is lost, every
/// login cut short ends with a protocol answer (never a 5xx), and new logins succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_in_the_middle_of_logins_nothing_committed_is_lost() {
    let mut instances = TestApp::builder()
        .clock(TestTime::Real)
        .spawn_processes(1)
        .await;
    let app = instances.app.clone();
    let merchant_client = app.client();
    let mut phones = Vec::new();
    for number in PEOPLE {
        let phone = app.phone(number).await;
        let (_, response) = log_in(&app.browser(), &phone, "", true).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        phones.push(Arc::new(phone));
    }
    let before = stored(&app, 0).await;
    let mut completed = 0;
    for round in 0..3 {
        let logins = Logins::start(&app, &phones, &merchant_client);
        // A different moment of the logins each round.
        tokio::time::sleep(Duration::from_millis(700 + 450 * round)).await;
        instances.kill(0);
        let ended = logins.stop().await;
        completed += ended
            .iter()
            .filter(|e| matches!(e, Ended::Completed))
            .count();
        let unclear: Vec<&Ended> = ended.iter().filter(|e| !e.is_clear()).collect();
        assert!(unclear.is_empty(), "round {round}: {unclear:?}");
        instances.restart(0).await;
        let seen = seen_by(&app);
        check_after_restart(&app, &merchant_client, &seen).await;
        eprintln!(
            "round {round}: {} logins, {} tokens kept, {} browser logins and {} merchant-initiated ones ended cleanly",
            ended.len(),
            seen.tokens.len(),
            seen.browser_logins.len(),
            seen.auth_req_ids.len()
        );
    }
    assert!(completed > 5, "only {completed} logins completed");
    let after = stored(&app, 0).await;
    let lost: Vec<&String> = before.difference(&after).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    for phone in &phones {
        for e in both(&app, phone, &merchant_client).await {
            assert!(matches!(e, Ended::Completed), "after the restarts: {e:?}");
        }
    }
}

/// After a restart: every token the merchant received works; every login started ends
/// with an answer a client can act on.
async fn check_after_restart(app: &TestApp, merchant: &reqwest::Client, seen: &Seen) {
    for token in &seen.tokens {
        let response = merchant
            .get(app.url(paths::USERINFO))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "a received token was lost"
        );
    }
    for id in &seen.browser_logins {
        let response = app.browser().get(&login_path(id, "continue")).await;
        assert!(
            !response.status().is_server_error(),
            "browser login {id}: {}",
            response.status()
        );
    }
    for auth_req_id in &seen.auth_req_ids {
        let response = merchant
            .post(app.url(paths::TOKEN))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("grant_type", CIBA_GRANT), ("auth_req_id", auth_req_id)])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        let clear = status == StatusCode::OK
            || (status == StatusCode::BAD_REQUEST
                && matches!(
                    body["error"].as_str(),
                    Some(
                        "authorization_pending"
                            | "slow_down"
                            | "access_denied"
                            | "expired_token"
                            | "invalid_grant"
                    )
                ));
        assert!(clear, "merchant-initiated {auth_req_id}: {status} {body}");
    }
}

/// A SQLite database another process holds longer than the busy timeout (5 s): a page
/// that writes answers 503 with `Retry-After`, and so does an API; once it lets go,
/// everything works again. (PostgreSQL's outage is the test above.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sqlite_database_held_by_another_writer_answers_503() {
    let app = TestApp::builder().spawn().await;
    let Some(path) = app.database_url().strip_prefix("sqlite://") else {
        return;
    };
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (locked, is_locked) = std::sync::mpsc::channel::<()>();
    let path = path.to_owned();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        // Until the test says, at most half a minute.
        let _ = held.recv_timeout(Duration::from_secs(30));
        conn.execute_batch("ROLLBACK").unwrap();
    });
    is_locked.recv().unwrap();

    // The authorization endpoint stores a login request: the page says to come back.
    let browser = app.browser();
    // Each answers once the busy timeout is out, not after every writer queued before
    // it (the purge and the outbox worker wait on the same lock).
    let bounded = Duration::from_secs(9);
    let asked = std::time::Instant::now();
    let page = browser.get(&app.authorize_url("")).await;
    assert!(asked.elapsed() < bounded, "{:?}", asked.elapsed());
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.headers().contains_key("retry-after"));
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // The merchant's CIBA start stores one too: JSON, as the API speaks.
    let asked = std::time::Instant::now();
    let start = app
        .client()
        .post(app.url(paths::CIBA_START))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("login_hint", "urn:msisdn:4791234501"),
            ("scope", "openid name"),
        ])
        .send()
        .await
        .unwrap();
    assert!(asked.elapsed() < bounded, "{:?}", asked.elapsed());
    assert_eq!(start.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(start.headers().contains_key("retry-after"));
    let body: Value = start.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");

    release.send(()).unwrap();
    holder.join().unwrap();
    let login = app.browser().start_login("").await;
    assert!(!login.id.is_empty());
}
