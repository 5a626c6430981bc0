//! Merchant-initiated login (OpenID Connect CIBA Core 1.0): the backchannel authentication
//! request, its parameters and their rules.

use crate::authorize::{Flow, Prompt, ResponseMode};
use crate::crypto;
use crate::login::{Ciba, Kind, LoginRequest, Status};
use crate::params::Params;
use crate::sales_unit::{CibaMode, SalesUnit};
use crate::scope::{Scope, ScopeSet};
use crate::{ErrorCode, OAuthError, msisdn};

/// Default lifetime of a merchant-initiated login request, seconds.
pub const DEFAULT_EXPIRY: i64 = 600;
/// Shortest and longest `requested_expiry`.
pub const EXPIRY_RANGE: std::ops::RangeInclusive<i64> = 60..=900;
/// Seconds a poll-mode client waits between token requests.
pub const INTERVAL: i64 = 5;
/// The `login_hint` prefix.
pub const MSISDN_PREFIX: &str = "urn:msisdn:";

/// A valid backchannel authentication request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CibaRequest {
    /// The person's MSISDN, from `login_hint`.
    pub phone_number: String,
    pub scopes: ScopeSet,
    pub binding_message: Option<String>,
    /// Seconds the request lives.
    pub expires_in: i64,
    /// `requested_flow=login_to_webpage`: where the app sends the person with a code.
    pub redirect_uri: Option<String>,
    pub notification_token: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
}

impl CibaRequest {
    /// The login request a valid backchannel request becomes: waiting for the person's app
    /// at once, with a new random `auth_req_id`.
    pub fn into_login_request(
        self,
        client_id: &str,
        user_id: uuid::Uuid,
        now: crate::Timestamp,
    ) -> LoginRequest {
        LoginRequest {
            id: uuid::Uuid::new_v4(),
            kind: Kind::MerchantInitiated,
            ciba: Some(Ciba {
                auth_req_id: crypto::random_secret(),
                binding_message: self.binding_message,
                notification_token: self.notification_token,
                last_polled_at: None,
            }),
            delegated_answers: None,
            client_id: client_id.to_owned(),
            redirect_uri: self.redirect_uri.unwrap_or_default(),
            scopes: self.scopes,
            state: self.state.unwrap_or_default(),
            nonce: self.nonce,
            code_challenge: None,
            code_challenge_method: None,
            flow: Flow::Web,
            app_callback_uri: None,
            final_redirect_is_app: false,
            acr_app_auth: false,
            prompt: Prompt::Default,
            response_mode: ResponseMode::Query,
            browser_binding: Vec::new(),
            csrf_token: crypto::random_secret(),
            status: Status::Waiting,
            user_id: Some(user_id),
            challenge: None,
            choices: None,
            remember_browser: false,
            amr: None,
            error: None,
            created_at: now,
            expires_at: now + self.expires_in,
            auth_time: None,
        }
    }
}

/// What the token endpoint answers a poll with the CIBA grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAnswer {
    /// The person has not answered; `slow_down` when a poll-mode client polled too soon.
    Pending {
        slow_down: bool,
    },
    /// Confirmed: the tokens are issued now (once).
    Issue,
    /// The request finishes on a web page: its code is redeemed with the `ciba-redirect` grant.
    WrongGrant,
    Expired,
    /// The login failed in the app; the merchant gets this code (see [`denial_code`]).
    Denied(ErrorCode),
    AlreadyRedeemed,
}

impl PollAnswer {
    /// The protocol error this answer is, if it is one (CIBA Core §11).
    pub fn error(self) -> Option<OAuthError> {
        Some(match self {
            Self::Issue => return None,
            Self::Pending { slow_down: true } => OAuthError::new(
                ErrorCode::SlowDown,
                "polled faster than the interval; wait longer",
            ),
            Self::Pending { slow_down: false } => OAuthError::new(
                ErrorCode::AuthorizationPending,
                "the person has not answered yet",
            ),
            Self::WrongGrant => OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "this request finishes on the web page: redeem its code with grant_type=urn:vipps:params:grant-type:ciba-redirect",
            ),
            Self::Expired => OAuthError::new(
                ErrorCode::ExpiredToken,
                "the request expired before the person answered",
            ),
            Self::Denied(ErrorCode::OldApp) => OAuthError::new(
                ErrorCode::OldApp,
                "the person's app is too old for merchant-initiated login",
            ),
            Self::Denied(code) => OAuthError::new(code, "the person rejected the login"),
            Self::AlreadyRedeemed => {
                OAuthError::invalid_grant("this auth_req_id was already redeemed")
            }
        })
    }
}

/// Decides the answer to a poll of a merchant-initiated request at `now`.
pub fn poll_answer(login: &LoginRequest, mode: CibaMode, now: crate::Timestamp) -> PollAnswer {
    if login.finishes_in_app() {
        return PollAnswer::WrongGrant;
    }
    if login.is_expired(now) {
        return PollAnswer::Expired;
    }
    match login.status {
        Status::New | Status::Waiting => {
            let last = login.ciba.as_ref().and_then(|c| c.last_polled_at);
            let too_fast = last.is_some_and(|last| now - last < INTERVAL);
            PollAnswer::Pending {
                slow_down: too_fast && mode == CibaMode::Poll,
            }
        }
        Status::Confirmed => PollAnswer::Issue,
        Status::Failed => PollAnswer::Denied(denial_code(login.error)),
        Status::Done => PollAnswer::AlreadyRedeemed,
    }
}

/// The error a poll answers for a login that failed in the app with `stored`. The
/// merchant-initiated guide names only the CIBA Core codes and `old_app` (besides
/// `invalid_user` and 429 at the start), so every other failure (a rejection with any
/// reason) is `access_denied`.
pub fn denial_code(stored: Option<ErrorCode>) -> ErrorCode {
    match stored {
        Some(ErrorCode::OldApp) => ErrorCode::OldApp,
        _ => ErrorCode::AccessDenied,
    }
}

/// Parses an MSISDN `login_hint` (`urn:msisdn:4791234567`).
pub fn parse_login_hint(hint: &str) -> Result<String, OAuthError> {
    let digits = hint.strip_prefix(MSISDN_PREFIX).ok_or_else(|| {
        OAuthError::invalid_request("login_hint must be urn:msisdn:{country code and number}")
    })?;
    if !msisdn::is_valid(digits) {
        return Err(OAuthError::invalid_request(
            "login_hint must hold a mobile number with a known country code, digits only, e.g. urn:msisdn:4791234567",
        ));
    }
    Ok(digits.to_owned())
}

/// `^[A-Z0-9-]{5,8}$`.
pub fn is_valid_binding_message(message: &str) -> bool {
    (5..=8).contains(&message.len())
        && message
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// Validates a backchannel authentication request of an authenticated sales unit.
pub fn validate(params: &Params, unit: &SalesUnit) -> Result<CibaRequest, OAuthError> {
    let phone_number = parse_login_hint(params.require("login_hint")?)?;
    let scopes = ScopeSet::parse(params.require("scope")?)?;
    if !scopes.contains(Scope::OpenId) {
        return Err(OAuthError::invalid_scope("scope must include 'openid'"));
    }
    let mut allowed = unit.allowed_browser_scopes();
    allowed.insert(Scope::DelegatedConsents);
    let refused = scopes.difference(allowed);
    if !refused.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "this client may not ask for: {refused}"
        )));
    }
    let binding_message = match params.get("binding_message")? {
        None => None,
        Some(m) if is_valid_binding_message(m) => Some(m.to_owned()),
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidBindingMessage,
                "binding_message must match ^[A-Z0-9-]{5,8}$",
            ));
        }
    };
    let expires_in = match params.get("requested_expiry")? {
        None => DEFAULT_EXPIRY,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| EXPIRY_RANGE.contains(n))
            .ok_or_else(|| {
                OAuthError::invalid_request(
                    "requested_expiry must be a whole number of seconds from 60 to 900",
                )
            })?,
    };
    let redirect_uri = match params.get("requested_flow")? {
        None => None,
        Some("login_to_webpage") => {
            let uri = params.get("redirect_uri")?.ok_or_else(|| {
                OAuthError::invalid_request("requested_flow=login_to_webpage needs redirect_uri")
            })?;
            if !unit.has_redirect_uri(uri) {
                return Err(OAuthError::invalid_request(
                    "redirect_uri is not registered for this client",
                ));
            }
            Some(uri.to_owned())
        }
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "requested_flow must be 'login_to_webpage'",
            ));
        }
    };
    let notification_token = params
        .get_bounded("client_notification_token", 1024)?
        .map(str::to_owned);
    if unit.ciba_mode == CibaMode::Ping && notification_token.is_none() {
        return Err(OAuthError::invalid_request(
            "client_notification_token is required in ping mode",
        ));
    }
    let state = params
        .get_bounded("state", crate::authorize::MAX_OPAQUE_PARAM)?
        .map(str::to_owned);
    let nonce = params
        .get_bounded("nonce", crate::authorize::MAX_OPAQUE_PARAM)?
        .map(str::to_owned);
    Ok(CibaRequest {
        phone_number,
        scopes,
        binding_message,
        expires_in,
        redirect_uri,
        notification_token,
        state,
        nonce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sales_unit::AuthMethod;

    fn unit(mode: CibaMode) -> SalesUnit {
        SalesUnit {
            client_id: "pos".into(),
            secret_hash: vec![],
            name: "Till".into(),
            redirect_uris: vec!["https://shop.example/cb".into()],
            auth_method: AuthMethod::ClientSecretBasic,
            msn: None,
            allow_nin: false,
            ciba_mode: mode,
            ciba_notification_endpoint: None,
            webhook_url: None,
            consent_texts: None,
            created_at: 0,
        }
    }

    fn check(body: &str, mode: CibaMode) -> Result<CibaRequest, OAuthError> {
        validate(&Params::parse(body.as_bytes()).unwrap(), &unit(mode))
    }

    #[test]
    fn poll_answers() {
        let request = check(BASE, CibaMode::Poll).unwrap();
        let mut login = request.into_login_request("pos", uuid::Uuid::nil(), 1000);
        let answer = |l: &LoginRequest, mode, now| poll_answer(l, mode, now);
        assert_eq!(
            answer(&login, CibaMode::Poll, 1001),
            PollAnswer::Pending { slow_down: false }
        );
        login.ciba.as_mut().unwrap().last_polled_at = Some(1000);
        assert_eq!(
            answer(&login, CibaMode::Poll, 1002),
            PollAnswer::Pending { slow_down: true }
        );
        assert_eq!(
            answer(&login, CibaMode::Ping, 1002),
            PollAnswer::Pending { slow_down: false },
            "ping clients are not slowed down"
        );
        assert_eq!(
            answer(&login, CibaMode::Poll, 1000 + INTERVAL),
            PollAnswer::Pending { slow_down: false }
        );
        assert_eq!(
            answer(&login, CibaMode::Poll, 1000 + DEFAULT_EXPIRY),
            PollAnswer::Expired
        );
        login.status = Status::Confirmed;
        assert_eq!(answer(&login, CibaMode::Poll, 1010), PollAnswer::Issue);
        assert!(PollAnswer::Issue.error().is_none());
        login.status = Status::Failed;
        login.error = Some(ErrorCode::AccessDenied);
        assert_eq!(
            answer(&login, CibaMode::Poll, 1010),
            PollAnswer::Denied(ErrorCode::AccessDenied)
        );
        login.error = Some(ErrorCode::OldApp);
        assert_eq!(
            answer(&login, CibaMode::Poll, 1010),
            PollAnswer::Denied(ErrorCode::OldApp)
        );
        login.status = Status::Done;
        assert_eq!(
            answer(&login, CibaMode::Poll, 1010),
            PollAnswer::AlreadyRedeemed
        );
        login.redirect_uri = "https://shop.example/cb".into();
        assert_eq!(answer(&login, CibaMode::Poll, 1010), PollAnswer::WrongGrant);
        assert_eq!(
            PollAnswer::Denied(ErrorCode::AccessDenied)
                .error()
                .unwrap()
                .code,
            ErrorCode::AccessDenied
        );
        assert_eq!(
            PollAnswer::Denied(ErrorCode::OldApp).error().unwrap().code,
            ErrorCode::OldApp
        );
    }

    #[test]
    fn a_poll_reports_old_app_and_every_other_failure_as_access_denied() {
        assert_eq!(denial_code(Some(ErrorCode::OldApp)), ErrorCode::OldApp);
        for stored in [
            Some(ErrorCode::AccessDenied),
            Some(ErrorCode::UnknownRejectReason),
            Some(ErrorCode::WrongChallenge),
            Some(ErrorCode::OutdatedAppVersion),
            None,
        ] {
            assert_eq!(denial_code(stored), ErrorCode::AccessDenied, "{stored:?}");
        }
    }

    const BASE: &str = "login_hint=urn%3Amsisdn%3A4791234501&scope=openid+name";

    #[test]
    fn accepts_a_valid_request() {
        let req = check(
            &format!("{BASE}&binding_message=ABC-123&requested_expiry=120"),
            CibaMode::Poll,
        )
        .unwrap();
        assert_eq!(req.phone_number, "4791234501");
        assert_eq!(req.expires_in, 120);
        assert_eq!(req.binding_message.as_deref(), Some("ABC-123"));
        assert_eq!(
            check(BASE, CibaMode::Poll).unwrap().expires_in,
            DEFAULT_EXPIRY
        );
    }

    #[test]
    fn rejects_bad_parameters() {
        let code = |body: &str, mode| check(body, mode).unwrap_err().code;
        use ErrorCode::*;
        assert_eq!(code("scope=openid", CibaMode::Poll), InvalidRequest);
        for hint in [
            "msisdn%3A4791234501",
            "urn%3Amsisdn%3Aabc",
            "urn%3Amsisdn%3A47912",
            "urn%3Amsisdn%3A479123450199",
            "urn%3Amsisdn%3A9991234567",
            "urn%3Amsisdn%3A%2B4791234501",
        ] {
            assert_eq!(
                code(&format!("login_hint={hint}&scope=openid"), CibaMode::Poll),
                InvalidRequest,
                "{hint}"
            );
        }
        assert_eq!(
            code(&BASE.replace("openid+name", "name"), CibaMode::Poll),
            InvalidScope
        );
        assert_eq!(
            code(&BASE.replace("openid+name", "openid+nin"), CibaMode::Poll),
            InvalidScope
        );
        for message in ["abc12", "ABCD", "ABCDEFGHI", "AB_CD", "ÆØÅ12"] {
            assert_eq!(
                code(&format!("{BASE}&binding_message={message}"), CibaMode::Poll),
                InvalidBindingMessage,
                "{message}"
            );
        }
        for expiry in ["59", "901", "ten", "-5", "60.5"] {
            assert_eq!(
                code(&format!("{BASE}&requested_expiry={expiry}"), CibaMode::Poll),
                InvalidRequest,
                "{expiry}"
            );
        }
        assert_eq!(
            code(
                &format!("{BASE}&requested_flow=login_to_webpage"),
                CibaMode::Poll
            ),
            InvalidRequest
        );
        assert_eq!(
            code(
                &format!(
                    "{BASE}&requested_flow=login_to_webpage&redirect_uri=https%3A%2F%2Fevil.example%2F"
                ),
                CibaMode::Poll
            ),
            InvalidRequest
        );
        assert_eq!(
            code(&format!("{BASE}&requested_flow=teleport"), CibaMode::Poll),
            InvalidRequest
        );
        assert_eq!(code(BASE, CibaMode::Ping), InvalidRequest);
        assert!(
            check(
                &format!("{BASE}&client_notification_token=t0k3n"),
                CibaMode::Ping
            )
            .is_ok()
        );
        assert!(check(&format!("{BASE}&scope=openid&scope=name"), CibaMode::Poll).is_err());
    }
}
