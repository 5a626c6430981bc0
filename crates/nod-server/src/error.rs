//! Errors of the web layer and how they are shown: [`ApiError`] renders RFC 6749 / RFC 6750
//! JSON (with `WWW-Authenticate` on 401), [`PageError`] renders an HTML page. A 500 logs the
//! whole chain and shows nothing internal. `anyhow` is used only for start-up and
//! background work; handlers map everything into these two types.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nod_core::{ErrorCode, OAuthError};
use nod_store::StoreError;
use serde_json::json;

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

/// An error shown to a person in the browser.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            title,
            message: message.into(),
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Login not found",
            "This login does not exist or has been cleaned up. Go back to the shop and start again.",
        )
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error on a page");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Nod could not finish this step. Please try again in a moment.",
        )
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = format!("{e:#}"), "internal error on a page");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Nod could not finish this step. Please try again in a moment.",
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        render_error_page(self.status, self.title, &self.message)
    }
}
