//! Protocol errors: the error codes of RFC 6749, OpenID Connect Core, CIBA and Nod's own,
//! with a human-readable description.

use std::borrow::Cow;

use serde::Serialize;

/// The `error` value of an OAuth 2.0 / OpenID Connect error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// RFC 6749 §4.1.2.1, §5.2: missing, invalid or repeated parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: the code is invalid, expired, redeemed, or was issued to someone else.
    InvalidGrant,
    /// RFC 6749 §4.1.2.1, §5.2: the client may not use this grant or flow.
    UnauthorizedClient,
    /// RFC 6749 §5.2.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: unknown scope, or one the client may not use.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the user or Nod refused the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1.
    ServerError,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` but the user must log in.
    LoginRequired,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` but consent is needed.
    ConsentRequired,
    /// Nod: the user picked the wrong number in the app.
    WrongChallenge,
    /// Nod: `app_callback_uri` is not a valid URI.
    InvalidAppCallbackUri,
    /// Nod: `app_callback_uri` is not one of the sales unit's redirect URIs.
    AppCallbackUriNotRegistered,
    /// Nod: the app rejected with a reason Nod does not know.
    UnknownRejectReason,
    /// Vipps Login, browser flows ("Custom error codes" of the browser-flow guide): the
    /// user's app is too old for this login. Nod produces it only on request, in test mode.
    OutdatedAppVersion,
    /// Vipps Login, merchant-initiated login ("Error responses" of its guide): the user's
    /// app is outdated and does not support this login flow. Answered by the token
    /// endpoint's CIBA grant. Nod produces it only on request, in test mode.
    OldApp,
    /// CIBA §11: the user has not acted yet.
    AuthorizationPending,
    /// CIBA §11: polled faster than the interval.
    SlowDown,
    /// CIBA §11: the request expired.
    ExpiredToken,
    /// CIBA §13: unknown or inactive user, or one who may not use login (under 15).
    InvalidUser,
    /// CIBA §13: the binding message is not acceptable.
    InvalidBindingMessage,
    /// RFC 6750 §3.1: the access token is missing, invalid or expired.
    InvalidToken,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::WrongChallenge => "wrong_challenge",
            Self::InvalidAppCallbackUri => "invalid_app_callback_uri",
            Self::AppCallbackUriNotRegistered => "app_callback_uri_not_registered",
            Self::UnknownRejectReason => "unknown_reject_reason",
            Self::OutdatedAppVersion => "outdated_app_version",
            Self::OldApp => "old_app",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidUser => "invalid_user",
            Self::InvalidBindingMessage => "invalid_binding_message",
            Self::InvalidToken => "invalid_token",
        }
    }
}

crate::stored::stored_enum!(ErrorCode => [
    InvalidRequest, InvalidClient, InvalidGrant, UnauthorizedClient, UnsupportedGrantType,
    UnsupportedResponseType, InvalidScope, AccessDenied, ServerError, LoginRequired,
    ConsentRequired, WrongChallenge, InvalidAppCallbackUri, AppCallbackUriNotRegistered,
    UnknownRejectReason, OutdatedAppVersion, OldApp, AuthorizationPending, SlowDown, ExpiredToken, InvalidUser,
    InvalidBindingMessage, InvalidToken,
]);

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as the protocol reports it: a code and a description for developers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }
}
