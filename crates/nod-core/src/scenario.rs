//! Test scenarios (test mode only): the outcomes the app API can end a login request
//! with on purpose, so that a merchant's CI can produce every result its integration has
//! to handle, and which outcome each kind of login can have.
//!
//! Which codes a merchant can see follows the Vipps Login documentation: the browser
//! flows' "Custom error codes" (`wrong_challenge`, `unknown_reject_reason`,
//! `outdated_app_version`, besides `access_denied`), and the merchant-initiated guide's
//! "Error responses" (the CIBA Core codes and `old_app`; see [`crate::ciba::denial_code`]).

use crate::login::{Kind, LoginRequest};
use crate::{ErrorCode, OAuthError};

/// An outcome the app can answer a waiting login request with in test mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The person rejects: `access_denied`.
    Rejected,
    /// The person picks a number other than the browser's: `wrong_challenge`.
    WrongChallenge,
    /// The app rejects with a reason Nod does not know: `unknown_reject_reason`.
    UnknownRejectReason,
    /// The app is too old for a browser login: `outdated_app_version`.
    OutdatedAppVersion,
    /// The app is too old for a merchant-initiated login: `old_app`.
    OldApp,
    /// The request runs out of time at once, as if nobody answered.
    ExpireNow,
}

impl Outcome {
    /// Every outcome, in the order the test app shows them.
    pub const ALL: [Outcome; 6] = [
        Outcome::Rejected,
        Outcome::WrongChallenge,
        Outcome::UnknownRejectReason,
        Outcome::OutdatedAppVersion,
        Outcome::OldApp,
        Outcome::ExpireNow,
    ];

    /// The name in the app API (`"outcome"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::WrongChallenge => "wrong_challenge",
            Self::UnknownRejectReason => "unknown_reject_reason",
            Self::OutdatedAppVersion => "outdated_app_version",
            Self::OldApp => "old_app",
            Self::ExpireNow => "expire_now",
        }
    }

    pub fn parse(name: &str) -> Option<Outcome> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// What the engine does for an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The request fails with this code (the same move as a rejection).
    Fail(ErrorCode),
    /// The request expires now.
    Expire,
}

/// What `outcome` does to `login`, or, when this kind of login cannot have that outcome
/// (its merchant would never see it from Vipps), an `invalid_request` that says which
/// outcome to use instead.
pub fn effect(login: &LoginRequest, outcome: Outcome) -> Result<Effect, OAuthError> {
    let browser = login.kind == Kind::Browser;
    let refuse = |why: &'static str| Err(OAuthError::invalid_request(why));
    match outcome {
        Outcome::Rejected => Ok(Effect::Fail(ErrorCode::AccessDenied)),
        Outcome::ExpireNow => Ok(Effect::Expire),
        Outcome::WrongChallenge if login.challenge.is_some() => {
            Ok(Effect::Fail(ErrorCode::WrongChallenge))
        }
        Outcome::WrongChallenge => refuse(
            "wrong_challenge needs a login that shows a number: a browser login where the phone number was typed in",
        ),
        Outcome::UnknownRejectReason if browser => Ok(Effect::Fail(ErrorCode::UnknownRejectReason)),
        Outcome::UnknownRejectReason => refuse(
            "a merchant-initiated login reports every rejection as access_denied: use rejected",
        ),
        Outcome::OutdatedAppVersion if browser => Ok(Effect::Fail(ErrorCode::OutdatedAppVersion)),
        Outcome::OutdatedAppVersion => {
            refuse("outdated_app_version is a browser login's error: use old_app")
        }
        Outcome::OldApp if !browser => Ok(Effect::Fail(ErrorCode::OldApp)),
        Outcome::OldApp => {
            refuse("old_app is a merchant-initiated login's error: use outdated_app_version")
        }
    }
}

/// The outcomes `login` can have, in [`Outcome::ALL`]'s order.
pub fn outcomes_for(login: &LoginRequest) -> Vec<Outcome> {
    Outcome::ALL
        .into_iter()
        .filter(|&o| effect(login, o).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ciba::CibaRequest;
    use crate::login::Status;
    use crate::scope::ScopeSet;

    fn ciba() -> LoginRequest {
        CibaRequest {
            phone_number: "4791234501".into(),
            scopes: ScopeSet::parse("openid name").unwrap(),
            binding_message: None,
            expires_in: 600,
            redirect_uri: None,
            notification_token: None,
            state: None,
            nonce: None,
        }
        .into_login_request("shop", uuid::Uuid::nil(), 1000)
    }

    /// A browser login sent to a phone: it shows a number.
    fn browser(challenge: Option<u8>) -> LoginRequest {
        LoginRequest {
            kind: Kind::Browser,
            ciba: None,
            status: Status::Waiting,
            challenge,
            choices: challenge.map(|c| [c, 11, 12]),
            ..ciba()
        }
    }

    #[test]
    fn names_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(Outcome::parse("approved"), None);
        assert_eq!(Outcome::parse(""), None);
    }

    #[test]
    fn a_browser_login_with_a_number_can_have_every_browser_error() {
        let login = browser(Some(42));
        let fails = |o| effect(&login, o).unwrap();
        assert_eq!(
            fails(Outcome::Rejected),
            Effect::Fail(ErrorCode::AccessDenied)
        );
        assert_eq!(
            fails(Outcome::WrongChallenge),
            Effect::Fail(ErrorCode::WrongChallenge)
        );
        assert_eq!(
            fails(Outcome::UnknownRejectReason),
            Effect::Fail(ErrorCode::UnknownRejectReason)
        );
        assert_eq!(
            fails(Outcome::OutdatedAppVersion),
            Effect::Fail(ErrorCode::OutdatedAppVersion)
        );
        assert_eq!(fails(Outcome::ExpireNow), Effect::Expire);
        let refused = effect(&login, Outcome::OldApp).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidRequest);
        assert!(refused.description.contains("outdated_app_version"));
    }

    #[test]
    fn a_browser_login_without_a_number_has_no_wrong_challenge() {
        let login = browser(None);
        assert!(effect(&login, Outcome::WrongChallenge).is_err());
        assert_eq!(
            outcomes_for(&login),
            [
                Outcome::Rejected,
                Outcome::UnknownRejectReason,
                Outcome::OutdatedAppVersion,
                Outcome::ExpireNow
            ]
        );
    }

    #[test]
    fn a_merchant_initiated_login_has_old_app_and_only_the_ciba_codes() {
        let login = ciba();
        assert_eq!(
            effect(&login, Outcome::OldApp),
            Ok(Effect::Fail(ErrorCode::OldApp))
        );
        assert_eq!(
            effect(&login, Outcome::Rejected),
            Ok(Effect::Fail(ErrorCode::AccessDenied))
        );
        assert_eq!(effect(&login, Outcome::ExpireNow), Ok(Effect::Expire));
        for o in [
            Outcome::WrongChallenge,
            Outcome::UnknownRejectReason,
            Outcome::OutdatedAppVersion,
        ] {
            assert_eq!(
                effect(&login, o).unwrap_err().code,
                ErrorCode::InvalidRequest,
                "{o:?}"
            );
        }
        assert_eq!(
            outcomes_for(&login),
            [Outcome::Rejected, Outcome::OldApp, Outcome::ExpireNow]
        );
    }
}
