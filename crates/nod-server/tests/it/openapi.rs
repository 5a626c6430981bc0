//! `GET /openapi.json`: an OpenAPI 3.1 document in which every route the app API router
//! serves is described, and which `docs/app-api.md` agrees with. A route added to the app
//! API without its `#[utoipa::path]` line in the document, or without its row in the doc,
//! fails here.

use std::collections::BTreeSet;
use std::path::Path;

use nod_server::paths;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::*;

/// A method and a path, as `("POST", "/app-api/v1/devices")`.
type Route = (String, String);

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn openapi(app: &TestApp) -> Value {
    let response = app
        .client()
        .get(app.url(paths::OPENAPI))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    response.json().await.unwrap()
}

/// The operations of the document under `prefix`.
fn documented(doc: &Value, prefix: &str) -> BTreeSet<Route> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with(prefix) {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

/// The routes the app API's routers declare, read from their source: every
/// `.route("…", get(…).post(…))` in `src/app_api/`. The test checks each against the
/// running server, so a route this reading misses shows up as a mismatch there.
fn app_api_routes() -> BTreeSet<Route> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app_api");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            routes.extend(routes_in(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    routes
}

fn routes_in(source: &str) -> Vec<Route> {
    let mut routes = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // The call's arguments: up to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .unwrap();
        let call = &rest[..end];
        let path = call
            .trim_start()
            .strip_prefix('"')
            .and_then(|p| p.split('"').next())
            .unwrap_or_else(|| {
                panic!("an app API route whose path is not a string literal: {call}")
            });
        let handlers = &call[call.find(',').unwrap() + 1..];
        for method in METHODS {
            let call = format!("{}(", method.to_lowercase());
            let mut from = 0;
            while let Some(i) = handlers[from..].find(&call) {
                let before = handlers[..from + i].chars().next_back();
                if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':')) {
                    routes.push((method.to_owned(), path.to_owned()));
                }
                from += i + call.len();
            }
        }
        rest = &rest[end..];
    }
    routes
}

/// The calls of `docs/app-api.md`: the table rows that start with `` `METHOD /path` ``.
fn app_api_doc_routes() -> BTreeSet<Route> {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/app-api.md");
    let mut routes = BTreeSet::new();
    for line in std::fs::read_to_string(doc).unwrap().lines() {
        let Some(cell) = line.strip_prefix("| `") else {
            continue;
        };
        let call = cell.split('`').next().unwrap();
        let mut words = call.split_whitespace();
        if let (Some(method), Some(path)) = (words.next(), words.next())
            && METHODS.contains(&method)
        {
            routes.insert((method.to_owned(), format!("{}{path}", paths::APP_API)));
        }
    }
    routes
}

/// The path with each `{parameter}` filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "00000000-0000-4000-8000-000000000000"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The methods the server takes at a path, from the `Allow` header of its 405 to a method
/// no route of the app API takes.
async fn allowed(app: &TestApp, path: &str) -> BTreeSet<String> {
    let response = app
        .client()
        .request(Method::OPTIONS, app.url(&concrete(path)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "{path} is not served"
    );
    response.headers()["allow"]
        .to_str()
        .unwrap()
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| m != "HEAD")
        .collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_covers_the_app_api() {
    let app = TestApp::builder().spawn().await;
    let doc = openapi(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], app.base.as_str());

    // What the app API serves: read from its routers, confirmed by the server itself.
    let served = app_api_routes();
    assert!(served.len() >= 13, "the routes were not read: {served:?}");
    let paths_served: BTreeSet<&String> = served.iter().map(|(_, p)| p).collect();
    for path in paths_served {
        let methods: BTreeSet<String> = served
            .iter()
            .filter(|(_, p)| p == path)
            .map(|(m, _)| m.clone())
            .collect();
        assert_eq!(allowed(&app, path).await, methods, "the methods of {path}");
    }

    let in_document = documented(&doc, paths::APP_API);
    let undocumented: Vec<_> = served.difference(&in_document).collect();
    assert!(
        undocumented.is_empty(),
        "app API routes missing from /openapi.json (add their #[utoipa::path] to \
         crates/nod-server/src/openapi/mod.rs): {undocumented:?}"
    );
    let not_served: Vec<_> = in_document.difference(&served).collect();
    assert!(
        not_served.is_empty(),
        "/openapi.json describes app API routes that are not served: {not_served:?}"
    );

    // docs/app-api.md and the document describe the same calls.
    let in_doc = app_api_doc_routes();
    let missing_in_doc: Vec<_> = in_document.difference(&in_doc).collect();
    assert!(
        missing_in_doc.is_empty(),
        "docs/app-api.md lacks a row for: {missing_in_doc:?}"
    );
    let missing_in_document: Vec<_> = in_doc.difference(&in_document).collect();
    assert!(
        missing_in_document.is_empty(),
        "docs/app-api.md describes calls /openapi.json does not: {missing_in_document:?}"
    );
}

#[tokio::test]
async fn the_document_describes_the_merchant_endpoints_and_their_security() {
    let app = TestApp::builder().spawn().await;
    let doc = openapi(&app).await;
    for (method, path) in [
        ("get", paths::DISCOVERY),
        ("get", paths::ROOT_DISCOVERY),
        ("get", paths::JWKS),
        ("get", paths::AUTHORIZE),
        ("post", paths::TOKEN),
        ("post", paths::REVOKE),
        ("get", paths::USERINFO),
        ("post", paths::USERINFO_SLASH),
        ("post", paths::CIBA_START),
        ("post", paths::USER_EXISTS),
        ("post", paths::ACCESS_TOKEN),
        ("post", paths::WEBHOOKS),
        ("get", paths::WEBHOOKS),
        ("delete", paths::WEBHOOK),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not described");
        assert!(
            operation["responses"]["200"].is_object()
                || operation["responses"]["201"].is_object()
                || operation["responses"]["204"].is_object()
                || operation["responses"]["303"].is_object(),
            "{method} {path} has no success answer"
        );
    }
    let token = &doc["paths"][paths::TOKEN]["post"];
    assert_eq!(
        token["responses"]["401"]["headers"]["WWW-Authenticate"]["schema"]["type"],
        "string"
    );
    assert!(token["responses"]["503"]["headers"]["Retry-After"].is_object());
    assert!(
        doc["paths"][paths::CIBA_START]["post"]["responses"]["429"]["headers"]["Retry-After"]
            .is_object()
    );
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for scheme in [
        "device_token",
        "client_secret_basic",
        "client_secret_post",
        "merchant_token",
    ] {
        assert!(schemes.contains_key(scheme), "{scheme}");
    }
    // An optional body is left out, never sent as `null`.
    let approve = &doc["paths"]["/app-api/v1/login-requests/{id}/approve"]["post"]["requestBody"];
    assert!(approve["required"].is_null(), "{approve}");
    assert_eq!(
        approve["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ApproveRequest"
    );
    // Operation ids are unique (one handler serves userinfo's two methods and paths).
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        }
    }
}

#[tokio::test]
async fn outside_test_mode_the_test_mode_calls_are_left_out() {
    let app = TestApp::builder().test_mode(false).spawn().await;
    let doc = openapi(&app).await;
    let app_api = documented(&doc, paths::APP_API);
    assert!(app_api.contains(&("POST".into(), "/app-api/v1/devices".into())));
    assert!(
        !app_api
            .iter()
            .any(|(_, p)| p.ends_with("/test-users") || p.ends_with("/outcome"))
    );
    // And so are the routes themselves.
    let response = app
        .client()
        .get(app.url("/app-api/v1/test-users"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
