//! `/metrics`: Prometheus's text format with requests by route, logins by journey and
//! outcome, waiting login requests, open event streams and the database pool. The
//! recorder is the process's, shared by the tests running beside this one: counters are
//! compared before and after, by how much they grew at least.

use reqwest::StatusCode;

use crate::support::*;

async fn scrape(app: &TestApp) -> String {
    let response = app.client().get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.unwrap()
}

/// The value of the series that starts with `series` (its name and labels, in order).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0.0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn metrics_count_requests_logins_and_streams() {
    let app = TestApp::builder().spawn().await;
    let token_route = r#"nod_http_requests_total{route="/access-management-1.0/access/oauth2/token",method="POST",status="200"}"#;
    let confirmed = r#"nod_logins_total{journey="desktop",outcome="confirmed"}"#;
    let denied = r#"nod_logins_total{journey="desktop",outcome="access_denied"}"#;
    let remembered = r#"nod_logins_total{journey="remembered",outcome="confirmed"}"#;
    let before = scrape(&app).await;

    // A desktop login, remembered; then one through the remembered browser.
    let browser = app.browser();
    let phone = app.phone(PHONE).await;
    let (_, response) = log_in(&browser, &phone, "", true).await;
    app.merchant().tokens(&code_of(&response), None).await;
    let again = browser.get(&app.authorize_url("")).await;
    assert!(query(&location(&again)).contains_key("code"), "remembered");
    // One rejected in the app, and one left waiting.
    let rejected = browser_login_waiting(&app).await;
    assert_eq!(phone.reject(&rejected).await.status(), StatusCode::OK);
    let waiting = browser_login_waiting(&app).await;
    let mut stream = phone.events().await;
    read_events_until(&mut stream, "event: ready").await;

    let after = scrape(&app).await;
    for (series, grew) in [
        (token_route, 1.0),
        (confirmed, 1.0),
        (denied, 1.0),
        (remembered, 1.0),
    ] {
        assert!(
            value(&after, series) - value(&before, series) >= grew,
            "{series} grew by {grew}:\n{after}"
        );
    }
    assert_eq!(value(&after, "nod_login_requests_waiting "), 1.0, "{after}");
    assert!(value(&after, r#"nod_event_streams_open{kind="app"}"#) >= 1.0);
    assert!(after.contains(
        r#"nod_http_request_duration_seconds_bucket{route="/access-management-1.0/access/oauth2/token",le="0.005"}"#
    ));
    assert!(after.contains("# TYPE nod_http_request_duration_seconds histogram"));
    assert!(value(&after, "nod_db_pool_max_connections ") >= 1.0);
    // Routes as declared: no login id makes a series of its own.
    assert!(!after.contains(&waiting), "{after}");
    assert!(after.contains(r#"route="/login/{id}/phone""#), "{after}");
}

/// A login in a browser, sent to [`PHONE`] and waiting; returns its id.
async fn browser_login_waiting(app: &TestApp) -> String {
    let browser = app.browser();
    let login = browser.start_login("").await;
    browser.submit_phone(&login, PHONE, false).await;
    login.id
}
