//! The OpenAPI 3.1 document of the app API, the merchant endpoints (OpenID Connect, CIBA,
//! user-exists) and the webhooks API, generated from the handlers' `#[utoipa::path]`
//! attributes and the wire types, and served at `GET /openapi.json` (built once, at
//! start-up, for this server's public URL and mode). A route is documented by one line in
//! [`ApiDoc`]'s `paths(…)`; the integration suite fails for an app API route that is not.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::config::ServerConfig;
use crate::paths;
use schemas::TEST_MODE;

pub(crate) mod schemas;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Nod",
        description = "Nod's HTTP APIs: the OpenID Connect and merchant-initiated login \
            (CIBA) endpoints on the Vipps MobilePay Login API paths, the access token and \
            webhooks APIs, and the app API of the person's phone app. Every endpoint also \
            accepts the optional `Vipps-System-Name`, `Vipps-System-Version`, \
            `Vipps-System-Plugin-Name` and `Vipps-System-Plugin-Version` headers (each at \
            most 30 characters, else 400). Pages (the login page, the test app, the demo \
            shop) are not described here. See docs/api-reference.md."
    ),
    paths(
        crate::oidc::discovery::get_discovery,
        crate::oidc::discovery::get_jwks,
        crate::oidc::authorize::authorize,
        crate::oidc::token::post_token,
        crate::oidc::token::post_revoke,
        crate::oidc::userinfo::get_userinfo,
        crate::ciba::start_ciba,
        crate::ciba::user_exists,
        crate::merchant_api::access_token::get_access_token,
        crate::merchant_api::webhooks::register_webhook,
        crate::merchant_api::webhooks::list_webhooks,
        crate::merchant_api::webhooks::delete_webhook,
        crate::app_api::account::register_device,
        crate::app_api::account::list_test_users,
        crate::app_api::login_requests::list_login_requests,
        crate::app_api::login_requests::open_login_request,
        crate::app_api::login_requests::get_events,
        crate::app_api::login_requests::approve_login_request,
        crate::app_api::login_requests::reject_login_request,
        crate::app_api::login_requests::answer_with_outcome,
        crate::app_api::account::get_profile,
        crate::app_api::account::list_consents,
        crate::app_api::account::revoke_consent,
        crate::app_api::account::list_browsers,
        crate::app_api::account::forget_browser,
        crate::app_api::account::list_devices,
        crate::app_api::account::revoke_device,
    ),
    components(schemas(schemas::OAuthErrorBody, schemas::Problem)),
    tags(
        (name = "OpenID Connect", description = "Discovery, JWKS, authorize, token, revocation and userinfo (docs/compatibility.md)."),
        (name = "merchant-initiated login", description = "CIBA and user-exists (docs/ciba.md)."),
        (name = "merchant API", description = "The access token API and the webhooks API (docs/webhooks.md)."),
        (name = "app API", description = "The person's phone app (docs/app-api.md)."),
        (name = "test mode", description = "Only with `nod serve --demo`: absent (404) otherwise."),
    )
)]
pub(crate) struct ApiDoc;

/// Copies of documented paths served at a second path too: the same operations.
const ALIASES: [(&str, &str, &str); 2] = [
    (paths::USERINFO, paths::USERINFO_SLASH, "_slash"),
    (paths::DISCOVERY, paths::ROOT_DISCOVERY, "_root"),
];

/// The document for this server: its public URL, its security schemes, and (outside test
/// mode) without the test-mode operations.
pub(crate) fn document(config: &ServerConfig) -> Value {
    let mut doc = match serde_json::to_value(ApiDoc::openapi()) {
        Ok(doc) => doc,
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document could not be built");
            return json!({});
        }
    };
    doc["servers"] = json!([{ "url": config.base() }]);
    doc["components"]["securitySchemes"] = security_schemes(config);
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, alias, suffix) in ALIASES {
            if let Some(mut item) = paths.get(path).cloned() {
                for operation in item
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|i| i.values_mut())
                {
                    if let Some(id) = operation["operationId"].as_str() {
                        operation["operationId"] = json!(format!("{id}{suffix}"));
                    }
                }
                paths.insert(alias.to_owned(), item);
            }
        }
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            // One handler serving two methods: one operation id each.
            let ids: Vec<&Value> = item.values().map(|o| &o["operationId"]).collect();
            if ids.iter().enumerate().any(|(i, id)| ids[..i].contains(id)) {
                for (method, operation) in item.iter_mut() {
                    if let Some(id) = operation["operationId"].as_str() {
                        operation["operationId"] = json!(format!("{method}_{id}"));
                    }
                }
            }
            for operation in item.values_mut() {
                optional_body_is_absent_not_null(operation);
            }
            if !config.test_mode {
                item.retain(|_, operation| !is_test_mode(operation));
            }
        }
        paths.retain(|_, item| item.as_object().is_some_and(|i| !i.is_empty()));
    }
    doc
}

/// An optional JSON body (`request_body(content = Option<T>)`) is left out or sent as a
/// `T`, never as `null`: its schema is `T`, and the body is not required.
fn optional_body_is_absent_not_null(operation: &mut Value) {
    let body = &mut operation["requestBody"];
    if !body.is_object() || body["required"] == json!(true) {
        return;
    }
    for media in body["content"]
        .as_object_mut()
        .into_iter()
        .flat_map(|c| c.values_mut())
    {
        let schema = &mut media["schema"];
        let one_of = schema["oneOf"].as_array().cloned().unwrap_or_default();
        if let [null, inner] = one_of.as_slice()
            && null == &json!({ "type": "null" })
        {
            *schema = inner.clone();
        }
    }
}

fn is_test_mode(operation: &Value) -> bool {
    operation["tags"]
        .as_array()
        .is_some_and(|tags| tags.iter().any(|t| t == TEST_MODE))
}

/// How callers authenticate. OpenAPI has no scheme for credentials in a form body:
/// `client_secret_post` is described by the discovery document, which lists it.
fn security_schemes(config: &ServerConfig) -> Value {
    json!({
        "device_token": {
            "type": "http",
            "scheme": "bearer",
            "description": "The app API: the `device_token` from `POST /app-api/v1/devices`."
        },
        "client_secret_basic": {
            "type": "http",
            "scheme": "basic",
            "description": "The sales unit's `client_id` and `client_secret`, each form-encoded (RFC 6749 §2.3.1)."
        },
        "client_secret_post": {
            "type": "openIdConnect",
            "openIdConnectUrl": format!("{}{}", config.base(), paths::DISCOVERY),
            "description": "`client_id` and `client_secret` as fields of the form body (RFC 6749 §2.3.1), for sales units set to `client_secret_post`; discovery lists it in `token_endpoint_auth_methods_supported`."
        },
        "merchant_token": {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token from `POST /accesstoken/get`: a sales unit's authorizes the webhooks API; a partner's, with `Merchant-Serial-Number`, acts for that merchant's sales unit at the token, CIBA and user-exists endpoints (partner keys)."
        },
        "access_token": {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token from the token endpoint."
        },
        "client_id_header": { "type": "apiKey", "in": "header", "name": "client_id" },
        "client_secret_header": { "type": "apiKey", "in": "header", "name": "client_secret" },
    })
}

/// `GET /openapi.json`: the document, built and serialized at the first request (not at
/// start: its building blocks would stay in the allocator's pools of every instance,
/// whether anyone asks for it or not).
pub(crate) fn router<S: Clone + Send + Sync + 'static>(config: &ServerConfig) -> Router<S> {
    let config = std::sync::Arc::new(config.clone());
    let body = std::sync::Arc::new(std::sync::OnceLock::<Bytes>::new());
    Router::new().route(
        paths::OPENAPI,
        get(move || {
            let body = body
                .get_or_init(|| {
                    Bytes::from(serde_json::to_vec(&document(&config)).unwrap_or_default())
                })
                .clone();
            async move {
                (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        ),
                        (
                            header::CACHE_CONTROL,
                            HeaderValue::from_static("max-age=300"),
                        ),
                    ],
                    body,
                )
            }
        }),
    )
}
