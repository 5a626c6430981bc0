//! The authorization request (OpenID Connect Core §3.1.2.1 with Nod's additions): its
//! parameters, and the order in which they are checked. Errors about the client or the
//! redirect URI are shown on a page; every other error goes back to the redirect URI.

use crate::params::Params;
use crate::pkce::{self, ChallengeMethod};
use crate::sales_unit::SalesUnit;
use crate::scope::{Scope, ScopeSet};
use crate::{ErrorCode, OAuthError};

/// Longest `state`, `nonce` and `code_challenge` accepted.
pub const MAX_OPAQUE_PARAM: usize = 1000;
/// Shortest `state` accepted.
pub const MIN_STATE: usize = 8;
/// `acr_values` that forces confirmation in the app.
pub const ACR_APP_AUTH: &str = "urn:vipps:acr:app_auth";

/// `requested_flow`: how the person gets from the app back to the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// The browser flow: desktop or mobile, decided by the browser.
    #[default]
    Web,
    AppToApp,
    AppToAppV2,
    AutomaticReturn,
}

impl Flow {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "app_to_app" => Some(Self::AppToApp),
            "app_to_app_v2" => Some(Self::AppToAppV2),
            "automatic_return_from_vipps_app" => Some(Self::AutomaticReturn),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::AppToApp => "app_to_app",
            Self::AppToAppV2 => "app_to_app_v2",
            Self::AutomaticReturn => "automatic_return_from_vipps_app",
        }
    }
}

/// `prompt` (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prompt {
    #[default]
    Default,
    None,
    Login,
    Consent,
}

impl Prompt {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "login" => Some(Self::Login),
            "consent" => Some(Self::Consent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "",
            Self::None => "none",
            Self::Login => "login",
            Self::Consent => "consent",
        }
    }
}

/// `response_mode`: how the authorization response reaches the redirect URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    #[default]
    Query,
    FormPost,
}

impl ResponseMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "query" => Some(Self::Query),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::FormPost => "form_post",
        }
    }
}

crate::stored::stored_enum!(Flow => [Web, AppToApp, AppToAppV2, AutomaticReturn]);
crate::stored::stored_enum!(Prompt => [Default, None, Login, Consent]);
crate::stored::stored_enum!(ResponseMode => [Query, FormPost]);

/// A valid authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: ScopeSet,
    pub state: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<(String, ChallengeMethod)>,
    pub flow: Flow,
    pub app_callback_uri: Option<String>,
    pub final_redirect_is_app: bool,
    pub acr_app_auth: bool,
    pub prompt: Prompt,
    pub response_mode: ResponseMode,
}

/// Where an authorization error is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown on Nod's error page, never redirected: the client or redirect URI is unknown.
    Page(OAuthError),
    /// Sent to the (registered) redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        response_mode: ResponseMode,
        error: OAuthError,
    },
}

/// Reads the `client_id` (errors are shown on a page).
pub fn client_id(params: &Params) -> Result<&str, AuthorizeError> {
    params
        .get_bounded("client_id", 200)
        .and_then(|v| v.ok_or_else(|| OAuthError::invalid_request("client_id is required")))
        .map_err(AuthorizeError::Page)
}

/// Validates an authorization request for a known sales unit.
pub fn validate(params: &Params, unit: &SalesUnit) -> Result<AuthorizeRequest, AuthorizeError> {
    let redirect_uri = params
        .get("redirect_uri")
        .map_err(AuthorizeError::Page)?
        .ok_or_else(|| {
            AuthorizeError::Page(OAuthError::invalid_request("redirect_uri is required"))
        })?;
    if !unit.has_redirect_uri(redirect_uri) {
        return Err(AuthorizeError::Page(OAuthError::invalid_request(
            "redirect_uri is not registered for this client",
        )));
    }
    // From here on errors go back to the merchant. Take `state` first so they carry it.
    let raw_state = params.get("state").ok().flatten();
    let response_mode = params
        .get("response_mode")
        .ok()
        .flatten()
        .and_then(ResponseMode::parse)
        .unwrap_or_default();
    let fail = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: raw_state
            .filter(|s| s.chars().count() <= MAX_OPAQUE_PARAM)
            .map(str::to_owned),
        response_mode,
        error,
    };
    validate_rest(params, unit, redirect_uri).map_err(fail)
}

fn validate_rest(
    params: &Params,
    unit: &SalesUnit,
    redirect_uri: &str,
) -> Result<AuthorizeRequest, OAuthError> {
    let response_mode = match params.get("response_mode")? {
        None => ResponseMode::Query,
        Some(v) => ResponseMode::parse(v).ok_or_else(|| {
            OAuthError::invalid_request("response_mode must be 'query' or 'form_post'")
        })?,
    };
    match params.get("response_type")? {
        None => return Err(OAuthError::invalid_request("response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    let state = params
        .get_bounded("state", MAX_OPAQUE_PARAM)?
        .ok_or_else(|| OAuthError::invalid_request("state is required"))?;
    if state.chars().count() < MIN_STATE {
        return Err(OAuthError::invalid_request(
            "state must be at least 8 characters",
        ));
    }
    let nonce = params.get_bounded("nonce", MAX_OPAQUE_PARAM)?;
    let scope = params
        .get("scope")?
        .ok_or_else(|| OAuthError::invalid_request("scope is required"))?;
    let scopes = ScopeSet::parse(scope)?;
    if !scopes.contains(Scope::OpenId) {
        return Err(OAuthError::invalid_scope("scope must include 'openid'"));
    }
    let refused = scopes.difference(unit.allowed_browser_scopes());
    if !refused.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "this client may not ask for: {refused}"
        )));
    }

    let challenge = params.get_bounded("code_challenge", MAX_OPAQUE_PARAM)?;
    let method = params.get("code_challenge_method")?;
    let code_challenge = match (challenge, method) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method without code_challenge",
            ));
        }
        (Some(challenge), method) => {
            let method = match method {
                None => ChallengeMethod::Plain,
                Some(m) => ChallengeMethod::parse(m).ok_or_else(|| {
                    OAuthError::invalid_request("code_challenge_method must be 'S256' or 'plain'")
                })?,
            };
            if !pkce::is_well_formed(challenge) {
                return Err(OAuthError::invalid_request(
                    "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
                ));
            }
            Some((challenge.to_owned(), method))
        }
    };

    let flow = match params.get("requested_flow")? {
        None => Flow::Web,
        Some(v) => Flow::parse(v).ok_or_else(|| {
            OAuthError::invalid_request(format!(
                "unknown requested_flow '{}'",
                crate::scope::truncate(v, 40)
            ))
        })?,
    };
    let app_callback_uri = match params.get_bounded("app_callback_uri", 2000)? {
        None => None,
        Some(uri) => {
            if url::Url::parse(uri).is_err() {
                return Err(OAuthError::new(
                    ErrorCode::InvalidAppCallbackUri,
                    "app_callback_uri is not an absolute URI",
                ));
            }
            if !unit.has_redirect_uri(uri) {
                return Err(OAuthError::new(
                    ErrorCode::AppCallbackUriNotRegistered,
                    "app_callback_uri is not one of the client's redirect URIs",
                ));
            }
            Some(uri.to_owned())
        }
    };
    match flow {
        Flow::AppToApp if app_callback_uri.is_none() => {
            return Err(OAuthError::invalid_request(
                "requested_flow=app_to_app needs app_callback_uri",
            ));
        }
        Flow::AppToAppV2 if code_challenge.is_none() => {
            return Err(OAuthError::invalid_request(
                "requested_flow=app_to_app_v2 needs PKCE (code_challenge)",
            ));
        }
        _ => {}
    }
    let final_redirect_is_app = match params.get("final_redirect_is_app")? {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "final_redirect_is_app must be 'true' or 'false'",
            ));
        }
    };
    let acr_app_auth = match params.get_bounded("acr_values", 200)? {
        None => false,
        Some(values) => values.split(' ').any(|v| v == ACR_APP_AUTH),
    };
    let prompt = match params.get("prompt")? {
        None => Prompt::Default,
        Some(v) => Prompt::parse(v).ok_or_else(|| {
            OAuthError::invalid_request("prompt must be 'none', 'login' or 'consent'")
        })?,
    };
    Ok(AuthorizeRequest {
        client_id: unit.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state: state.to_owned(),
        nonce: nonce.map(str::to_owned),
        code_challenge,
        flow,
        app_callback_uri,
        final_redirect_is_app,
        acr_app_auth,
        prompt,
        response_mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sales_unit::{AuthMethod, CibaMode};

    fn unit() -> SalesUnit {
        SalesUnit {
            client_id: "shop".into(),
            secret_hash: vec![],
            name: "Shop".into(),
            redirect_uris: vec!["https://shop.example/cb".into(), "shopapp://cb".into()],
            auth_method: AuthMethod::ClientSecretBasic,
            msn: None,
            allow_nin: false,
            ciba_mode: CibaMode::Poll,
            ciba_notification_endpoint: None,
            webhook_url: None,
            consent_texts: None,
            created_at: 0,
        }
    }

    fn check(query: &str) -> Result<AuthorizeRequest, AuthorizeError> {
        let params = Params::parse(query.as_bytes()).unwrap();
        validate(&params, &unit())
    }

    fn redirect_code(query: &str) -> ErrorCode {
        match check(query) {
            Err(AuthorizeError::Redirect { error, .. }) => error.code,
            other => panic!("expected a redirect error, got {other:?}"),
        }
    }

    const BASE: &str = "response_type=code&client_id=shop&redirect_uri=https%3A%2F%2Fshop.example%2Fcb&scope=openid+name&state=12345678";

    #[test]
    fn accepts_a_valid_request() {
        let req = check(BASE).unwrap();
        assert_eq!(req.state, "12345678");
        assert_eq!(req.scopes.to_string(), "openid name");
        assert_eq!(req.flow, Flow::Web);
    }

    #[test]
    fn unregistered_redirect_uri_is_a_page_error() {
        let q = BASE.replace("cb&", "cc&");
        assert!(matches!(check(&q), Err(AuthorizeError::Page(_))));
    }

    #[test]
    fn redirect_errors() {
        assert_eq!(
            redirect_code(&BASE.replace("state=12345678", "state=1234567")),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirect_code(&BASE.replace("response_type=code", "response_type=token")),
            ErrorCode::UnsupportedResponseType
        );
        assert_eq!(
            redirect_code(&BASE.replace("openid+name", "name")),
            ErrorCode::InvalidScope
        );
        assert_eq!(
            redirect_code(&BASE.replace("openid+name", "openid+nin")),
            ErrorCode::InvalidScope
        );
        assert_eq!(
            redirect_code(&format!("{BASE}&nonce={}", "n".repeat(1001))),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirect_code(&format!("{BASE}&code_challenge_method=S256")),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirect_code(&format!("{BASE}&requested_flow=teleport")),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirect_code(&format!("{BASE}&requested_flow=app_to_app_v2")),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirect_code(&format!("{BASE}&app_callback_uri=not%20a%20uri")),
            ErrorCode::InvalidAppCallbackUri
        );
        assert_eq!(
            redirect_code(&format!("{BASE}&app_callback_uri=other%3A%2F%2Fcb")),
            ErrorCode::AppCallbackUriNotRegistered
        );
        assert_eq!(
            redirect_code(&format!("{BASE}&scope=openid")),
            ErrorCode::InvalidRequest
        );
    }
}
