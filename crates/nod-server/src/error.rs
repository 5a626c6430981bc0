//! Errors of the web layer and how they are shown: [`ApiError`] renders RFC 6749 / RFC 6750
//! JSON (with `WWW-Authenticate` on 401), [`PageError`] renders an HTML page. A 500 logs the
//! whole chain and shows nothing internal. `anyhow` is used only for start-up and
//! background work; handlers map everything into these two types.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nod_core::{ErrorCode, OAuthError};
use nod_store::StoreError;
use serde_json::json;

use crate::i18n::{Lang, Problem};
use crate::pages::render_error_page;

/// An error of a JSON endpoint.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: OAuthError,
    pub www_authenticate: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: OAuthError) -> Self {
        Self {
            status,
            error,
            www_authenticate: None,
        }
    }

    pub fn bad_request(error: OAuthError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error)
    }

    /// 401 `invalid_client`; with `basic`, a `WWW-Authenticate: Basic` challenge.
    pub fn invalid_client(description: &'static str, basic: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: OAuthError::invalid_client(description),
            www_authenticate: basic.then_some("Basic realm=\"nod\", charset=\"UTF-8\""),
        }
    }

    /// 401 `invalid_token` (RFC 6750 §3.1).
    pub fn invalid_token(description: &'static str) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: OAuthError::new(ErrorCode::InvalidToken, description),
            www_authenticate: Some("Bearer error=\"invalid_token\""),
        }
    }

    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, context, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            OAuthError::new(ErrorCode::ServerError, "internal error; try again"),
        )
    }
}

impl From<OAuthError> for ApiError {
    fn from(error: OAuthError) -> Self {
        let status = match error.code {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, error)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => {
                tracing::error!(error = %e, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    OAuthError::new(ErrorCode::ServerError, "temporarily unavailable; try again"),
                )
            }
            other => Self::internal("store", &other),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Self::internal("server", &format_args!("{e:#}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.error.code,
            "error_description": self.error.description,
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
pub struct PageError {
    pub status: StatusCode,
    pub problem: Problem,
    /// A detail for developers (in English), shown under the message.
    pub detail: Option<String>,
}

impl PageError {
    pub fn new(status: StatusCode, problem: Problem) -> Self {
        Self {
            status,
            problem,
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, Problem::NotFound)
    }

    fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, Problem::Internal)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error on a page");
        Self::internal()
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = format!("{e:#}"), "internal error on a page");
        Self::internal()
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
pub async fn render_problem_pages(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let lang = Lang::from_headers(request.headers());
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<ProblemPage>() {
        Some(ProblemPage(problem, detail)) => {
            render_error_page(response.status(), lang, problem, detail.as_deref())
        }
        None => response,
    }
}
