//! The OpenID Connect endpoints on the compatible paths: discovery, JWKS, authorize,
//! token and userinfo, and the authorization response sent back to merchants.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nod_core::authorize::{self, AuthorizeError, ResponseMode};
use nod_core::crypto;
use nod_core::grant::{AccessToken, Redemption};
use nod_core::login::{Amr, LoginRequest};
use nod_core::params::Params;
use nod_core::sales_unit::{AuthMethod, SalesUnit};
use nod_core::scope::Scope;
use nod_core::{ErrorCode, OAuthError, userinfo};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::config::ServerConfig;
use crate::error::{ApiError, PageError};
use crate::extract::{FormParams, bearer_token};
use crate::i18n::{Lang, Problem};
use crate::{AppState, NO_STORE, pages, paths};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::DISCOVERY, get(get_discovery))
        .route(paths::ROOT_DISCOVERY, get(get_discovery))
        .route(paths::JWKS, get(get_jwks))
        .route(paths::AUTHORIZE, get(authorize))
        .route(paths::TOKEN, axum::routing::post(post_token))
        .route(paths::USERINFO, get(get_userinfo).post(get_userinfo))
}

/// The discovery document: only what Nod really does.
pub fn discovery_document(config: &ServerConfig) -> Value {
    let base = config.base();
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    json!({
        "issuer": config.issuer(),
        "authorization_endpoint": format!("{base}{}", paths::AUTHORIZE),
        "token_endpoint": format!("{base}{}", paths::TOKEN),
        "userinfo_endpoint": format!("{base}{}", paths::USERINFO),
        "jwks_uri": format!("{base}{}", paths::JWKS),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": [GRANT_AUTHORIZATION_CODE, GRANT_CIBA, GRANT_CIBA_REDIRECT],
        "backchannel_authentication_endpoint": format!("{base}{}", paths::CIBA_START),
        "backchannel_token_delivery_modes_supported": ["poll", "ping"],
        "backchannel_user_code_parameter_supported": false,
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "scopes_supported": scopes,
        "claims_supported": [
            "sub", "sid", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash", "msn",
            "name", "given_name", "family_name", "email", "email_verified", "address", "other_addresses",
            "phone_number", "phone_number_verified", "birthdate", "nin"
        ],
        "acr_values_supported": [authorize::ACR_APP_AUTH],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}

async fn get_discovery(state: AppState) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=3600"),
        )],
        axum::Json(state.discovery.clone()),
    )
        .into_response()
}

async fn get_jwks(state: AppState) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=300"),
        )],
        axum::Json(state.keys.jwks().await),
    )
        .into_response()
}

/// Rejects over-long `Vipps-System-*` headers and logs the rest as structured fields.
pub async fn check_system_headers(request: Request, next: Next) -> Response {
    const NAMES: [&str; 4] = [
        "vipps-system-name",
        "vipps-system-version",
        "vipps-system-plugin-name",
        "vipps-system-plugin-version",
    ];
    let headers = request.headers();
    for name in NAMES {
        if let Some(value) = headers.get(name)
            && value.len() > 30
        {
            return ApiError::bad_request(OAuthError::invalid_request(format!(
                "header {name} is longer than 30 characters"
            )))
            .into_response();
        }
    }
    if NAMES.iter().any(|n| headers.contains_key(*n)) {
        let field = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
        tracing::info!(
            system_name = field(NAMES[0]),
            system_version = field(NAMES[1]),
            plugin_name = field(NAMES[2]),
            plugin_version = field(NAMES[3]),
            "merchant system"
        );
    }
    next.run(request).await
}

/// `GET …/oauth2/auth`: validates, stores a login request bound to this browser and sends
/// the browser to the login page.
async fn authorize(state: AppState, lang: Lang, jar: CookieJar, uri: axum::http::Uri) -> Response {
    // A malformed query cannot be trusted to name a redirect URI: shown on a page.
    let params = match Params::parse(uri.query().unwrap_or("").as_bytes()) {
        Ok(params) => params,
        Err(e) => return authorize_error(lang, &state.config, AuthorizeError::Page(e)),
    };
    let unit = match authorize::client_id(&params) {
        Ok(client_id) => match state.store.get_sales_unit(client_id).await {
            Ok(Some(unit)) => unit,
            Ok(None) => {
                return PageError::new(StatusCode::BAD_REQUEST, Problem::UnknownClient)
                    .into_response();
            }
            Err(e) => return PageError::from(e).into_response(),
        },
        Err(e) => return authorize_error(lang, &state.config, e),
    };
    let request = match authorize::validate(&params, &unit) {
        Ok(request) => request,
        Err(e) => return authorize_error(lang, &state.config, e),
    };
    let (jar, binding) = pages::browser_binding(&state.config, jar);
    let login = LoginRequest::new(
        request,
        binding,
        crypto::random_secret(),
        state.now(),
        state.config.login_request_lifetime,
    );
    if let Err(e) = state.store.create_login_request(&login).await {
        return PageError::from(e).into_response();
    }
    (jar, pages::see_other(&format!("/login/{}", login.id))).into_response()
}

fn authorize_error(lang: Lang, config: &ServerConfig, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::Page(e) => PageError::new(StatusCode::BAD_REQUEST, Problem::BrokenLink)
            .with_detail(format!("{}: {}", e.code, e.description))
            .into_response(),
        AuthorizeError::Redirect {
            redirect_uri,
            state,
            response_mode,
            error,
        } => error_response(
            lang,
            config,
            &redirect_uri,
            state.as_deref(),
            response_mode,
            &error,
        ),
    }
}

/// Sends an error to the merchant's redirect URI.
pub fn error_response(
    lang: Lang,
    config: &ServerConfig,
    redirect_uri: &str,
    state: Option<&str>,
    mode: ResponseMode,
    error: &OAuthError,
) -> Response {
    let issuer = config.issuer();
    let mut params = vec![
        ("error", error.code.as_str()),
        ("error_description", error.description.as_ref()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", &issuer));
    authorization_response(lang, redirect_uri, &params, mode)
}

/// The authorization response (RFC 6749 §4.1.2, OAuth 2.0 Form Post Response Mode).
pub fn authorization_response(
    lang: Lang,
    redirect_uri: &str,
    params: &[(&str, &str)],
    mode: ResponseMode,
) -> Response {
    match mode {
        ResponseMode::Query => {
            let Some(url) = crate::flow::url_with_params(redirect_uri, params) else {
                return PageError::new(StatusCode::BAD_REQUEST, Problem::BrokenRedirect)
                    .into_response();
            };
            ([NO_STORE], pages::see_other(&url)).into_response()
        }
        ResponseMode::FormPost => pages::render_form_post(lang, redirect_uri, params),
    }
}

/// The client that authenticates a token request, and how it did.
pub(crate) async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<SalesUnit, ApiError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials.trim());
    let body_id = params.get("client_id")?;
    let body_secret = params.get("client_secret")?;
    let (client_id, secret, method) = match basic {
        Some(credentials) => {
            if body_secret.is_some() {
                return Err(ApiError::bad_request(OAuthError::invalid_request(
                    "use one client authentication method, not both",
                )));
            }
            let decoded = STANDARD
                .decode(credentials)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::invalid_client("malformed Basic credentials", true))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| ApiError::invalid_client("malformed Basic credentials", true))?;
            // RFC 6749 §2.3.1: both parts are form-encoded.
            let id = form_decode(id);
            let secret = form_decode(secret);
            if body_id.is_some_and(|b| b != id) {
                return Err(ApiError::bad_request(OAuthError::invalid_request(
                    "client_id in the body differs from the Authorization header",
                )));
            }
            (id, secret, AuthMethod::ClientSecretBasic)
        }
        None => match (body_id, body_secret) {
            (Some(id), Some(secret)) => (
                id.to_owned(),
                secret.to_owned(),
                AuthMethod::ClientSecretPost,
            ),
            _ => {
                return Err(ApiError::invalid_client(
                    "client authentication is required",
                    true,
                ));
            }
        },
    };
    let basic = method == AuthMethod::ClientSecretBasic;
    let unit = state
        .store
        .get_sales_unit(&client_id)
        .await?
        .ok_or_else(|| ApiError::invalid_client("unknown client or wrong secret", basic))?;
    if !crypto::verify_secret(&secret, &unit.secret_hash) {
        return Err(ApiError::invalid_client(
            "unknown client or wrong secret",
            basic,
        ));
    }
    if unit.auth_method != method {
        return Err(ApiError::invalid_client(
            match unit.auth_method {
                AuthMethod::ClientSecretBasic => {
                    "this client authenticates with client_secret_basic"
                }
                AuthMethod::ClientSecretPost => "this client authenticates with client_secret_post",
            },
            basic,
        ));
    }
    if let Some(msn) = headers.get("merchant-serial-number")
        && unit.msn.as_deref().map(str::as_bytes) != Some(msn.as_bytes())
    {
        return Err(ApiError::bad_request(OAuthError::invalid_request(
            "Merchant-Serial-Number does not match this client",
        )));
    }
    Ok(unit)
}

fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    id_token: String,
    scope: String,
}

#[derive(Serialize)]
struct IdTokenClaims {
    iss: String,
    sub: String,
    aud: [String; 1],
    exp: i64,
    iat: i64,
    auth_time: i64,
    jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    at_hash: String,
    sid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    msn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<String>,
    amr: [Amr; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_req_id: Option<String>,
}

/// `POST …/oauth2/token`.
async fn post_token(
    state: AppState,
    headers: HeaderMap,
    FormParams(params): FormParams,
) -> Result<Response, ApiError> {
    let unit = authenticate_client(&state, &headers, &params).await?;
    match params.require("grant_type")? {
        GRANT_AUTHORIZATION_CODE => redeem_code(&state, &unit, &params, false).await,
        GRANT_CIBA_REDIRECT => redeem_code(&state, &unit, &params, true).await,
        GRANT_CIBA => crate::ciba::redeem_auth_req_id(&state, &unit, &params).await,
        _ => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "grant_type must be authorization_code, urn:openid:params:grant-type:ciba or urn:vipps:params:grant-type:ciba-redirect",
        )
        .into()),
    }
}

pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_CIBA: &str = "urn:openid:params:grant-type:ciba";
pub const GRANT_CIBA_REDIRECT: &str = "urn:vipps:params:grant-type:ciba-redirect";

/// Redeems a code: from a browser login (`authorization_code`, with the redirect URI and
/// PKCE verifier), or from a merchant-initiated login to a web page (`ciba-redirect`).
async fn redeem_code(
    state: &AppState,
    unit: &SalesUnit,
    params: &Params,
    ciba_redirect: bool,
) -> Result<Response, ApiError> {
    let code = params.require("code")?;
    let redirect_uri = params.get("redirect_uri")?;
    let verifier = params.get("code_verifier")?;
    let now = state.now();
    let code_hash = crypto::hash_secret(code);
    let code = match state
        .store
        .redeem_code(&code_hash, &unit.client_id, now)
        .await?
    {
        Redemption::Redeemed(code) => code,
        Redemption::Replayed => {
            tracing::warn!(client_id = %unit.client_id, "authorization code replayed; its tokens are revoked");
            return Err(OAuthError::invalid_grant(
                "the code was already used; the tokens issued for it are revoked",
            )
            .into());
        }
        Redemption::Unknown => {
            return Err(OAuthError::invalid_grant("the code is invalid or expired").into());
        }
    };
    match (&code.redirect_uri, ciba_redirect) {
        (Some(expected), false) => match redirect_uri {
            None => return Err(OAuthError::invalid_grant("redirect_uri is required").into()),
            Some(given) if given != expected => {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri differs from the authorization request",
                )
                .into());
            }
            Some(_) => {}
        },
        (None, true) => {}
        (Some(_), true) => {
            return Err(OAuthError::invalid_grant(
                "this code is from a browser login: use grant_type=authorization_code",
            )
            .into());
        }
        (None, false) => {
            return Err(OAuthError::invalid_grant(
                "this code is from a merchant-initiated login: use grant_type=urn:vipps:params:grant-type:ciba-redirect",
            )
            .into());
        }
    }
    let challenge = code
        .code_challenge
        .as_deref()
        .zip(code.code_challenge_method);
    nod_core::pkce::verify(challenge, verifier)?;
    let grant = Grant {
        user_id: code.user_id,
        scopes: code.scopes,
        sid: code.sid,
        nonce: code.nonce,
        auth_time: code.auth_time,
        amr: code.amr,
        acr: code.acr,
        auth_req_id: code.auth_req_id,
        code_hash: Some(code_hash.to_vec()),
    };
    issue_tokens(state, unit, grant).await
}

/// What a finished login grants, whichever way it is redeemed.
pub(crate) struct Grant {
    pub user_id: Uuid,
    pub scopes: nod_core::scope::ScopeSet,
    pub sid: Uuid,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub amr: Amr,
    pub acr: Option<String>,
    pub auth_req_id: Option<String>,
    /// The code it was redeemed with, so a replay revokes the access token.
    pub code_hash: Option<Vec<u8>>,
}

/// Stores an access token and signs an ID token: the token response.
pub(crate) async fn issue_tokens(
    state: &AppState,
    unit: &SalesUnit,
    grant: Grant,
) -> Result<Response, ApiError> {
    let now = state.now();
    let access_token = crypto::random_secret();
    let token = AccessToken {
        token_hash: crypto::hash_secret(&access_token).to_vec(),
        client_id: unit.client_id.clone(),
        user_id: grant.user_id,
        scopes: grant.scopes,
        sid: grant.sid,
        code_hash: grant.code_hash,
        expires_at: now + state.config.access_token_lifetime,
    };
    state.store.insert_access_token(&token).await?;
    let sub = crypto::pairwise_subject(&state.pairwise_key, &unit.client_id, grant.user_id);
    let claims = IdTokenClaims {
        iss: state.config.issuer(),
        sub: sub.to_string(),
        aud: [unit.client_id.clone()],
        exp: now + state.config.id_token_lifetime,
        iat: now,
        auth_time: grant.auth_time,
        jti: Uuid::new_v4().to_string(),
        nonce: grant.nonce,
        at_hash: crypto::at_hash(&access_token),
        sid: grant.sid.to_string(),
        msn: unit.msn.clone(),
        acr: grant.acr,
        amr: [grant.amr],
        auth_req_id: grant.auth_req_id,
    };
    let id_token = state.keys.sign(claims).await?;
    let body = TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.config.access_token_lifetime,
        id_token,
        scope: grant.scopes.to_string(),
    };
    Ok((
        [
            NO_STORE,
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        axum::Json(body),
    )
        .into_response())
}

/// `GET|POST /vipps-userinfo-api/userinfo`.
async fn get_userinfo(state: AppState, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = bearer_token(&headers)
        .ok_or_else(|| ApiError::invalid_token("a Bearer access token is required"))?;
    let hash = crypto::hash_secret(token);
    let (token, user) = state
        .store
        .get_access_token_with_user(&hash, state.now())
        .await?
        .ok_or_else(|| {
            ApiError::invalid_token("the access token is invalid, expired or revoked")
        })?;
    if !user.active {
        return Err(ApiError::invalid_token("the user is no longer active"));
    }
    let sub = crypto::pairwise_subject(&state.pairwise_key, &token.client_id, user.id);
    let mut claims = userinfo::claims(&user, token.scopes, sub, token.sid);
    if token.scopes.contains(Scope::DelegatedConsents)
        && let Some(value) = delegated_consents(&state, &token.client_id, token.sid).await?
    {
        claims.insert("delegatedConsents".into(), value);
    }
    Ok(([NO_STORE], axum::Json(claims)).into_response())
}

/// The person's answers to the sales unit's consent questions in the login `sid`.
async fn delegated_consents(
    state: &AppState,
    client_id: &str,
    sid: Uuid,
) -> Result<Option<Value>, ApiError> {
    let Some(texts) = state
        .store
        .get_sales_unit(client_id)
        .await?
        .and_then(|u| u.consent_texts)
    else {
        return Ok(None);
    };
    let Some(login) = state.store.get_login_request(sid).await? else {
        return Ok(None);
    };
    #[derive(serde::Deserialize)]
    struct Answer {
        id: String,
        accepted: bool,
    }
    let answers: Vec<Answer> = login
        .delegated_answers
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let answers: Vec<(String, bool)> = answers.into_iter().map(|a| (a.id, a.accepted)).collect();
    let time = login.auth_time.unwrap_or(login.created_at);
    Ok(Some(userinfo::delegated_consents(&texts, &answers, time)))
}
