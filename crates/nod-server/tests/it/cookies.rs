//! Nod's cookies: a binding value Nod did not issue is never adopted, and on https the
//! cookies carry the `__Host-` prefix and `Secure`.

use reqwest::StatusCode;

use crate::support::*;

/// The `name=value` pairs the response sets, and each whole header.
fn set_cookies(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| {
            let header = v.to_str().unwrap().to_owned();
            let pair = header.split(';').next().unwrap().to_owned();
            (pair, header)
        })
        .collect()
}

#[tokio::test]
async fn a_binding_cookie_nod_did_not_issue_is_never_adopted() {
    let app = TestApp::builder().spawn().await;
    let client = app.client();
    // Planted by someone else: the old shape of the value, and one that looks new.
    for planted in [
        "A".repeat(43),
        format!("{}.{}", "A".repeat(43), "B".repeat(22)),
    ] {
        let cookie = format!("nod_bid={planted}");
        let response = client
            .get(app.authorize_url(""))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let page = location(&response);
        let issued = set_cookies(&response)
            .into_iter()
            .find(|(pair, _)| pair.starts_with("nod_bid="))
            .expect("a new binding cookie");
        assert_ne!(issued.0, cookie);
        // The planted value opens nothing; the issued one opens the login page.
        let planted_page = client
            .get(app.url(&page))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(planted_page.status(), StatusCode::FORBIDDEN);
        let own_page = client
            .get(app.url(&page))
            .header("cookie", &issued.0)
            .send()
            .await
            .unwrap();
        assert_eq!(own_page.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn an_issued_binding_cookie_is_kept() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser();
    let first = browser.get(&app.authorize_url("")).await;
    assert!(
        set_cookies(&first)
            .iter()
            .any(|(p, _)| p.starts_with("nod_bid="))
    );
    let second = browser.get(&app.authorize_url("")).await;
    assert!(
        !set_cookies(&second)
            .iter()
            .any(|(p, _)| p.starts_with("nod_bid=")),
        "the browser's own value is kept"
    );
}

#[tokio::test]
async fn on_https_the_cookies_are_host_only_and_secure() {
    let app = TestApp::builder()
        .public_url("https://login.example")
        .spawn()
        .await;
    let response = app
        .client()
        .get(app.authorize_url(""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookies = set_cookies(&response);
    let (_, header) = cookies
        .iter()
        .find(|(pair, _)| pair.starts_with("__Host-nod_bid="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    for attribute in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(header.contains(attribute), "{attribute}: {header}");
    }
    assert!(!header.contains("Domain"), "{header}");
}
