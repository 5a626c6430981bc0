//! Extractors that turn requests into protocol values, so handlers never see a malformed
//! one: form parameters (RFC 6749 rules), JSON bodies, bearer tokens, client
//! credentials, path parameters, the peer address and the user agent, each rejecting
//! with an RFC-shaped error (or Nod's page) instead of axum's plain-text rejection.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use nod_core::OAuthError;
use nod_core::params::Params;
use nod_core::sales_unit::AuthMethod;
use serde::de::DeserializeOwned;

use crate::service::{AuthScheme, ClientCredentials, PartnerCredentials};
use crate::web::error::{ApiError, PageError, ProblemJson};

/// Parameters from an `application/x-www-form-urlencoded` body.
pub(crate) struct FormParams(pub Params);

impl<S: Send + Sync> FromRequest<S> for FormParams {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_form(req.headers()) {
            return Err(ApiError::bad_request(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            )));
        }
        let body = Bytes::from_request(req, state).await.map_err(unreadable)?;
        Ok(Self(Params::parse(&body)?))
    }
}

/// A body that could not be read: too large (413, as the body limit says), or broken.
fn unreadable(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            OAuthError::invalid_request("the body is larger than this endpoint accepts"),
        )
    } else {
        ApiError::bad_request(OAuthError::invalid_request("the body could not be read"))
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// A JSON body; a missing content type or malformed JSON is `invalid_request`.
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(req, state).await.map_err(unreadable)?;
        let body: &[u8] = if body.is_empty() { b"{}" } else { &body };
        serde_json::from_slice(body).map(Self).map_err(|e| {
            ApiError::bad_request(OAuthError::invalid_request(format!(
                "malformed JSON body: {e}"
            )))
        })
    }
}

/// The token of an `Authorization: Bearer` header, if one was sent.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 512)
}

/// The client credentials of a token-endpoint style request: HTTP Basic
/// (`client_secret_basic`) or `client_id` + `client_secret` in the body
/// (`client_secret_post`), and the `Merchant-Serial-Number` header.
pub(crate) fn client_credentials(
    headers: &HeaderMap,
    params: &Params,
) -> Result<ClientCredentials, ApiError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials.trim());
    let body_id = params.get("client_id")?;
    let body_secret = params.get("client_secret")?;
    let msn = headers
        .get("merchant-serial-number")
        .map(|v| v.as_bytes().to_vec());
    let (client_id, secret, method) = match basic {
        Some(credentials) => {
            if body_secret.is_some() {
                return Err(ApiError::bad_request(OAuthError::invalid_request(
                    "use one client authentication method, not both",
                )));
            }
            let malformed =
                || ApiError::invalid_client("malformed Basic credentials", AuthScheme::Basic);
            let (id, secret) =
                nod_core::params::basic_credentials(credentials).ok_or_else(malformed)?;
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
                    AuthScheme::Basic,
                ));
            }
        },
    };
    Ok(ClientCredentials {
        client_id,
        secret,
        method,
        msn,
    })
}

/// A partner's credentials (partner keys): `Authorization: Bearer {token from POST
/// /accesstoken/get}` with `Merchant-Serial-Number`; `None` for any other scheme. A
/// `client_secret` in the body as well is `invalid_request`, as for Basic.
pub(crate) fn partner_credentials(
    headers: &HeaderMap,
    params: &Params,
) -> Result<Option<PartnerCredentials>, ApiError> {
    let is_bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(' ').next())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer"));
    if !is_bearer {
        return Ok(None);
    }
    if params.get("client_secret")?.is_some() {
        return Err(ApiError::bad_request(OAuthError::invalid_request(
            "use one client authentication method, not both",
        )));
    }
    let token = bearer_token(headers)
        .ok_or_else(|| ApiError::invalid_client("malformed Bearer token", AuthScheme::Bearer))?;
    Ok(Some(PartnerCredentials {
        token: token.to_owned(),
        msn: msn_header(headers),
        body_client_id: params.get("client_id")?.map(str::to_owned),
    }))
}

/// The peer address of the connection, when the server knows it.
pub(crate) struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// The `User-Agent` header ("" when absent or not text).
pub(crate) struct UserAgent(pub String);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(UserAgent(
            parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
        ))
    }
}

/// The query string's parameters; a malformed query is `None` (the caller decides how
/// to report it).
pub(crate) struct QueryParams(pub Result<Params, OAuthError>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryParams(Params::parse(
            parts.uri.query().unwrap_or("").as_bytes(),
        )))
    }
}

/// A page's path parameter; a malformed one (say, invalid UTF-8) is Nod's 404 page.
pub(crate) struct PagePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PagePath {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| PagePath(id))
            .map_err(|_| PageError::not_found())
    }
}

/// An API path parameter; a malformed one is a JSON 404.
pub(crate) struct ApiPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ApiPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|_| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    OAuthError::invalid_request("no such resource"),
                )
            })
    }
}

/// The login request of a page's path, loaded and checked to belong to this browser
/// (its binding cookie). Unknown: the 404 page; another browser's: 403.
pub(crate) struct BoundLogin(pub nod_core::login::LoginRequest);

impl FromRequestParts<crate::state::AppState> for BoundLogin {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let PagePath(id) = PagePath::from_request_parts(parts, state).await?;
        let jar = axum_extra::extract::CookieJar::from_headers(&parts.headers);
        let login = state
            .service
            .bound_login(
                &id,
                crate::web::cookies::binding(&state.config, &state.service.binding_key, &jar),
            )
            .await?;
        Ok(BoundLogin(login))
    }
}

/// A form-encoded request from an authenticated client (token endpoint, revocation, CIBA
/// start, user-exists): the sales unit its credentials authenticate — its own client
/// secret, or a partner's access token acting for it (partner keys) — and the form's
/// parameters.
pub(crate) struct ClientForm {
    pub unit: std::sync::Arc<nod_core::sales_unit::SalesUnit>,
    pub params: Params,
}

impl FromRequest<crate::state::AppState> for ClientForm {
    type Rejection = ApiError;

    async fn from_request(
        req: Request,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let FormParams(params) = FormParams::from_request(req, state).await?;
        let unit = match partner_credentials(&headers, &params)? {
            Some(partner) => {
                std::sync::Arc::new(state.service.authenticate_partner(&partner).await?)
            }
            None => {
                let credentials = client_credentials(&headers, &params)?;
                state.service.authenticate_client(&credentials).await?
            }
        };
        Ok(ClientForm { unit, params })
    }
}

/// A form posted on a login page: the login bound to this browser, and the form's
/// parameters, whose `csrf` field carries the login's CSRF token (checked here).
pub(crate) struct LoginForm {
    pub login: nod_core::login::LoginRequest,
    pub params: Params,
}

impl FromRequest<crate::state::AppState> for LoginForm {
    type Rejection = axum::response::Response;

    async fn from_request(
        req: Request,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = req.into_parts();
        let BoundLogin(login) = BoundLogin::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let FormParams(params) = FormParams::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| {
                let (status, problem) = if e.status == StatusCode::PAYLOAD_TOO_LARGE {
                    (e.status, crate::i18n::Problem::TooLarge)
                } else {
                    (StatusCode::BAD_REQUEST, crate::i18n::Problem::FormExpired)
                };
                PageError::new(status, problem).into_response()
            })?;
        crate::service::Service::check_csrf(&login, params.get("csrf").ok().flatten())
            .map_err(|e| PageError::from(e).into_response())?;
        Ok(LoginForm { login, params })
    }
}

/// The `Merchant-Serial-Number` header, when sent.
fn msn_header(headers: &HeaderMap) -> Option<Vec<u8>> {
    headers
        .get("merchant-serial-number")
        .map(|v| v.as_bytes().to_vec())
}

/// The credentials of `POST /accesstoken/get`: the `client_id` and `client_secret`
/// headers (both required) and `Merchant-Serial-Number`. `Ocp-Apim-Subscription-Key` is
/// ignored.
pub(crate) struct HeaderCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub msn: Option<Vec<u8>>,
}

impl<S: Send + Sync> FromRequestParts<S> for HeaderCredentials {
    type Rejection = ProblemJson;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 512)
                .map(str::to_owned)
        };
        match (header("client_id"), header("client_secret")) {
            (Some(client_id), Some(client_secret)) => Ok(HeaderCredentials {
                client_id,
                client_secret,
                msn: msn_header(&parts.headers),
            }),
            _ => Err(ProblemJson::new(
                StatusCode::UNAUTHORIZED,
                "the client_id and client_secret headers are required",
            )),
        }
    }
}

/// A merchant API call (the webhooks API): the sales unit its Bearer token from
/// `POST /accesstoken/get` belongs to. A missing, unknown or expired token is a 401.
pub(crate) struct MerchantAuth(pub std::sync::Arc<nod_core::sales_unit::SalesUnit>);

impl FromRequestParts<crate::state::AppState> for MerchantAuth {
    type Rejection = ProblemJson;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let unit = state
            .service
            .merchant_by_token(
                bearer_token(&parts.headers),
                msn_header(&parts.headers).as_deref(),
            )
            .await?;
        Ok(MerchantAuth(unit))
    }
}

/// A JSON body of a merchant API call; a malformed one is a 400 problem.
pub(crate) struct ProblemJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ProblemJsonBody<T> {
    type Rejection = ProblemJson;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| ProblemJson::new(StatusCode::BAD_REQUEST, "the body could not be read"))?;
        serde_json::from_slice(&body).map(Self).map_err(|e| {
            ProblemJson::new(StatusCode::BAD_REQUEST, format!("malformed JSON body: {e}"))
        })
    }
}
