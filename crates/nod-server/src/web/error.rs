//! Errors of the web layer and how they are shown: [`ApiError`] renders RFC 6749 / RFC 6750
//! JSON (with `WWW-Authenticate` on 401 and `Retry-After` on 429/503), [`PageError`]
//! renders an HTML page. Both come from the engine's [`ServiceError`]. A 500 logs the
//! whole chain and shows nothing internal. `anyhow` is used only for start-up and
//! background work; handlers map everything into these two types.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nod_core::{ErrorCode, OAuthError};
use nod_store::StoreError;
use serde_json::json;

use crate::i18n::{Lang, Problem};
use crate::service::{AuthScheme, ServiceError, describe};
use crate::web::render::render_error_page;

/// The header that carries each request's id (set when the client or a proxy did not).
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// An error of a JSON endpoint.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    /// The error code and description; `None` for a bare 401 challenge (RFC 6750 §3.1:
    /// a request with no credentials at all gets no error code).
    pub error: Option<OAuthError>,
    pub www_authenticate: Option<&'static str>,
    /// Seconds to wait before trying again (429, 503).
    pub retry_after: Option<i64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, error: OAuthError) -> Self {
        Self {
            status,
            error: Some(error),
            www_authenticate: None,
            retry_after: None,
        }
    }

    /// 401 with `WWW-Authenticate: Bearer` and no error code: the request carried no
    /// bearer token at all (RFC 6750 §3.1).
    pub(crate) fn bearer_challenge() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: None,
            www_authenticate: Some("Bearer"),
            retry_after: None,
        }
    }

    pub(crate) fn bad_request(error: OAuthError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error)
    }

    /// 401 `invalid_client`, challenging with the scheme the client tried (RFC 6749 §5.2).
    pub(crate) fn invalid_client(description: &'static str, scheme: AuthScheme) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: Some(OAuthError::invalid_client(description)),
            www_authenticate: match scheme {
                AuthScheme::None => None,
                AuthScheme::Basic => Some("Basic realm=\"nod\", charset=\"UTF-8\""),
                AuthScheme::Bearer => Some("Bearer realm=\"nod\""),
            },
            retry_after: None,
        }
    }

    /// 401 `invalid_token` (RFC 6750 §3.1).
    pub(crate) fn invalid_token(description: &'static str) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: Some(OAuthError::new(ErrorCode::InvalidToken, description)),
            www_authenticate: Some("Bearer error=\"invalid_token\""),
            retry_after: None,
        }
    }

    pub(crate) fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %ErrorChain(error), context, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            OAuthError::new(ErrorCode::ServerError, "internal error; try again"),
        )
    }
}

impl From<OAuthError> for ApiError {
    fn from(error: OAuthError) -> Self {
        // RFC 6749 §5.2 and CIBA Core §11: every token-endpoint error is 400 but
        // `invalid_client`, the CIBA `access_denied` included.
        let status = match error.code {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, error)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => {
                tracing::error!(error = %ErrorChain(&e), "database unavailable");
                Self {
                    retry_after: Some(1),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        OAuthError::new(
                            ErrorCode::ServerError,
                            "temporarily unavailable; try again",
                        ),
                    )
                }
            }
            // A concurrent change (a user or sales unit deleted at the same moment).
            StoreError::Conflict(_) => Self::new(
                StatusCode::CONFLICT,
                OAuthError::invalid_request("a concurrent change got in the way; try again"),
            ),
            other => Self::internal("store", &other),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = |status, error| Self::new(status, error);
        match e {
            ServiceError::OAuth(error) => error.into(),
            ServiceError::NotFound(what) => {
                status(StatusCode::NOT_FOUND, OAuthError::invalid_request(what))
            }
            ServiceError::UnknownUser => status(
                StatusCode::NOT_FOUND,
                OAuthError::new(
                    ErrorCode::InvalidUser,
                    "no active user has this phone number",
                ),
            ),
            ServiceError::WrongBrowser | ServiceError::BadCsrf => status(
                StatusCode::FORBIDDEN,
                OAuthError::new(ErrorCode::AccessDenied, e.to_string()),
            ),
            ServiceError::Conflict => status(
                StatusCode::CONFLICT,
                OAuthError::invalid_request("the login request was already answered"),
            ),
            ServiceError::Expired => status(
                StatusCode::GONE,
                OAuthError::new(ErrorCode::ExpiredToken, "the login request has expired"),
            ),
            ServiceError::TooMany {
                retry_after,
                description,
            } => Self {
                retry_after: Some(retry_after),
                ..status(
                    StatusCode::TOO_MANY_REQUESTS,
                    OAuthError::invalid_request(description),
                )
            },
            ServiceError::InvalidClient {
                description,
                scheme,
            } => Self::invalid_client(description, scheme),
            ServiceError::InvalidToken(description) => Self::invalid_token(description),
            ServiceError::NoBearerToken => Self::bearer_challenge(),
            ServiceError::Refused(description) => status(
                StatusCode::FORBIDDEN,
                OAuthError::new(ErrorCode::AccessDenied, description),
            ),
            ServiceError::Invalid(problems) => status(
                StatusCode::BAD_REQUEST,
                OAuthError::invalid_request(describe(&problems)),
            ),
            ServiceError::Store(e) => e.into(),
            ServiceError::Internal(e) => Self::internal("server", e.as_ref()),
        }
    }
}

/// An error of the merchant API platform endpoints (the access token API and the webhooks
/// API), in the Vipps MobilePay error format: RFC 7807 `application/problem+json` with
/// `title`, `status`, `detail` and, for invalid fields, `extraDetails`
/// (`[{"name","reason"}]`), as the Webhooks API's `ProblemDetails` schema has them.
#[derive(Debug)]
pub(crate) struct ProblemJson {
    pub status: StatusCode,
    pub detail: String,
    pub extra_details: Vec<(&'static str, String)>,
    /// A `WWW-Authenticate` challenge (401).
    pub www_authenticate: Option<&'static str>,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<i64>,
}

impl ProblemJson {
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            extra_details: Vec::new(),
            www_authenticate: None,
            retry_after: None,
        }
    }
}

impl From<ApiError> for ProblemJson {
    fn from(e: ApiError) -> Self {
        Self {
            status: e.status,
            detail: e.error.map_or_else(
                || "authentication is required".to_owned(),
                |error| error.description.into_owned(),
            ),
            extra_details: Vec::new(),
            www_authenticate: e.www_authenticate,
            retry_after: e.retry_after,
        }
    }
}

impl From<ServiceError> for ProblemJson {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(problems) => Self {
                extra_details: problems
                    .iter()
                    .map(|p| (p.name, p.reason.clone()))
                    .collect(),
                ..Self::new(
                    StatusCode::BAD_REQUEST,
                    "One or more validation errors occurred.",
                )
            },
            ServiceError::InvalidClient { description, .. } => {
                Self::new(StatusCode::UNAUTHORIZED, description)
            }
            ServiceError::InvalidToken(description) => Self {
                www_authenticate: Some("Bearer error=\"invalid_token\""),
                ..Self::new(StatusCode::UNAUTHORIZED, description)
            },
            other => ApiError::from(other).into(),
        }
    }
}

impl IntoResponse for ProblemJson {
    fn into_response(self) -> Response {
        let mut body = json!({
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.extra_details.is_empty() {
            body["extraDetails"] = self
                .extra_details
                .iter()
                .map(|(name, reason)| json!({ "name": name, "reason": reason }))
                .collect();
        }
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Displays an error with every source in its chain (`a: b: c`), for logs.
pub(crate) struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match &self.error {
            Some(error) => {
                let body = json!({
                    "error": error.code,
                    "error_description": error.description,
                });
                (self.status, axum::Json(body)).into_response()
            }
            None => self.status.into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(challenge) = self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// An error shown to a person in the browser. It is rendered, in the language the browser
/// asks for, by [`render_problem_pages`].
#[derive(Debug)]
pub(crate) struct PageError {
    pub status: StatusCode,
    pub problem: Problem,
    /// A detail for developers (in English), shown under the message.
    pub detail: Option<String>,
}

impl PageError {
    pub(crate) fn new(status: StatusCode, problem: Problem) -> Self {
        Self {
            status,
            problem,
            detail: None,
        }
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, Problem::NotFound)
    }

    fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, Problem::Internal)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %ErrorChain(&e), "store error on a page");
        match e {
            StoreError::Unavailable(_) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, Problem::Unavailable)
            }
            StoreError::Conflict(_) => Self::new(StatusCode::CONFLICT, Problem::Internal),
            _ => Self::internal(),
        }
    }
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(_) | ServiceError::UnknownUser => Self::not_found(),
            ServiceError::WrongBrowser => Self::new(StatusCode::FORBIDDEN, Problem::WrongBrowser),
            ServiceError::BadCsrf => Self::new(StatusCode::FORBIDDEN, Problem::FormExpired),
            ServiceError::Conflict => Self::new(StatusCode::CONFLICT, Problem::AlreadyDone),
            ServiceError::Refused(_) => Self::new(StatusCode::BAD_REQUEST, Problem::BadResumeLink),
            ServiceError::Store(e) => e.into(),
            other => {
                tracing::error!(error = %ErrorChain(&other), "internal error on a page");
                Self::internal()
            }
        }
    }
}

/// Marks a response that is to become an error page.
#[derive(Debug, Clone)]
struct ProblemPage(Problem, Option<String>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response
            .extensions_mut()
            .insert(ProblemPage(self.problem, self.detail));
        response
    }
}

/// Renders [`PageError`]s in the language of the request.
pub(crate) async fn render_problem_pages(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let lang = Lang::from_headers(request.headers());
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<ProblemPage>() {
        Some(ProblemPage(problem, detail)) => {
            let mut page = render_error_page(
                response.status(),
                lang,
                problem,
                detail.as_deref(),
                request_id.as_deref(),
            );
            match page.status() {
                StatusCode::SERVICE_UNAVAILABLE => {
                    page.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(1));
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    page.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(60));
                }
                _ => {}
            }
            page
        }
        None => response,
    }
}

/// The kind of API a path belongs to, for the answers the router gives by itself (no
/// such path, not that method): JSON there, never an empty body or an HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApiKind {
    /// `{"error", "error_description"}`: the OpenID Connect endpoints, CIBA, userinfo and
    /// the app API.
    OAuth,
    /// `application/problem+json`: the access token API and the Webhooks API.
    Problem,
}

fn api_kind(path: &str) -> Option<ApiKind> {
    const OAUTH: &[&str] = &[
        "/access-management-1.0/access/oauth2/token",
        "/access-management-1.0/access/oauth2/revoke",
        "/access-management-1.0/access/.well-known/",
        "/.well-known/",
        "/vipps-userinfo-api/",
        "/vipps-login-ciba/",
        "/app-api/",
    ];
    if path.starts_with("/accesstoken/") || path.starts_with("/webhooks/") {
        Some(ApiKind::Problem)
    } else if OAUTH.iter().any(|prefix| path.starts_with(prefix)) {
        Some(ApiKind::OAuth)
    } else {
        None
    }
}

/// Answers an unknown path (404) or method (405) of a JSON API in that API's format;
/// pages keep theirs.
pub(crate) async fn json_api_misses(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let kind = api_kind(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    let Some(kind) = kind else {
        return response;
    };
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if is_json
        || !matches!(
            status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        )
    {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let detail = match (status, allow.as_ref().and_then(|a| a.to_str().ok())) {
        (StatusCode::METHOD_NOT_ALLOWED, Some(allowed)) => {
            format!("this endpoint does not take this method; it takes {allowed}")
        }
        (StatusCode::METHOD_NOT_ALLOWED, None) => "this endpoint does not take this method".into(),
        _ => "there is no such endpoint".into(),
    };
    let mut answer = match kind {
        ApiKind::OAuth => {
            let error = if status == StatusCode::NOT_FOUND {
                "not_found"
            } else {
                "invalid_request"
            };
            let body = json!({ "error": error, "error_description": detail });
            (status, axum::Json(body)).into_response()
        }
        ApiKind::Problem => ProblemJson::new(status, detail).into_response(),
    };
    let headers = answer.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(allow) = allow {
        headers.insert(header::ALLOW, allow);
    }
    answer
}
