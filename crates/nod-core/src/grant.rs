//! What a finished login grants: single-use authorization codes and opaque access tokens,
//! both stored only as hashes.

use uuid::Uuid;

use crate::login::Amr;
use crate::pkce;
use crate::pkce::ChallengeMethod;
use crate::scope::ScopeSet;
use crate::{OAuthError, Timestamp};

/// An authorization code, as stored (the code itself is known only to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub code_hash: Vec<u8>,
    pub client_id: String,
    pub user_id: Uuid,
    /// The redirect URI the token request must repeat; `None` for the CIBA redirect grant.
    pub redirect_uri: Option<String>,
    pub scopes: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<ChallengeMethod>,
    /// The login session id (`sid`).
    pub sid: Uuid,
    pub auth_time: Timestamp,
    pub amr: Amr,
    pub acr: Option<String>,
    pub auth_req_id: Option<String>,
    pub expires_at: Timestamp,
}

/// An access token, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token_hash: Vec<u8>,
    pub client_id: String,
    pub user_id: Uuid,
    pub scopes: ScopeSet,
    pub sid: Uuid,
    /// The code it was issued for, so a replayed code revokes it.
    pub code_hash: Option<Vec<u8>>,
    pub expires_at: Timestamp,
}

/// A merchant's API access token from the access token API (`POST /accesstoken/get`), as
/// stored (the token itself is known only to the merchant). It names a sales unit and
/// nothing else: it authorizes the merchant's own API calls (the webhooks API), never
/// userinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantToken {
    pub token_hash: Vec<u8>,
    pub client_id: String,
    pub expires_at: Timestamp,
}

/// The result of redeeming a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// First use: the code, now spent.
    Redeemed(Box<AuthCode>),
    /// The code had been redeemed before; the tokens issued from it were revoked
    /// (`tokens_revoked` says whether there were any).
    Replayed { tokens_revoked: bool },
    /// No such code, or expired.
    Unknown,
}

/// Which grant a code is redeemed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeGrant {
    /// `authorization_code`: a browser login's code, with its redirect URI and PKCE verifier.
    AuthorizationCode,
    /// `urn:vipps:params:grant-type:ciba-redirect`: a merchant-initiated login to a web page.
    CibaRedirect,
}

/// Checks a redeemed code against the token request (RFC 6749 §4.1.3, RFC 7636 §4.6).
pub fn check_redemption(
    code: &AuthCode,
    grant: CodeGrant,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    match (code.redirect_uri.as_deref(), grant) {
        (Some(expected), CodeGrant::AuthorizationCode) => match redirect_uri {
            None => return Err(OAuthError::invalid_grant("redirect_uri is required")),
            Some(given) if given != expected => {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri differs from the authorization request",
                ));
            }
            Some(_) => {}
        },
        (None, CodeGrant::CibaRedirect) => {}
        (Some(_), CodeGrant::CibaRedirect) => {
            return Err(OAuthError::invalid_grant(
                "this code is from a browser login: use grant_type=authorization_code",
            ));
        }
        (None, CodeGrant::AuthorizationCode) => {
            return Err(OAuthError::invalid_grant(
                "this code is from a merchant-initiated login: use grant_type=urn:vipps:params:grant-type:ciba-redirect",
            ));
        }
    }
    let challenge = code
        .code_challenge
        .as_deref()
        .zip(code.code_challenge_method);
    pkce::verify(challenge, verifier)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn code(redirect_uri: Option<&str>, challenge: Option<&str>) -> AuthCode {
        AuthCode {
            code_hash: vec![],
            client_id: "c".into(),
            user_id: Uuid::nil(),
            redirect_uri: redirect_uri.map(str::to_owned),
            scopes: ScopeSet::default(),
            nonce: None,
            code_challenge: challenge.map(str::to_owned),
            code_challenge_method: challenge.map(|_| pkce::ChallengeMethod::S256),
            sid: Uuid::nil(),
            auth_time: 0,
            amr: Amr::App,
            acr: None,
            auth_req_id: None,
            expires_at: 0,
        }
    }

    const URI: &str = "https://shop.example/cb";
    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn redemptions_are_checked() {
        use CodeGrant::*;
        let browser = code(Some(URI), None);
        assert!(check_redemption(&browser, AuthorizationCode, Some(URI), None).is_ok());
        let err = |c: &AuthCode, g, uri, v| check_redemption(c, g, uri, v).unwrap_err().code;
        assert_eq!(
            err(&browser, AuthorizationCode, None, None),
            ErrorCode::InvalidGrant
        );
        assert_eq!(
            err(
                &browser,
                AuthorizationCode,
                Some("https://evil.example/"),
                None
            ),
            ErrorCode::InvalidGrant
        );
        assert_eq!(
            err(&browser, CibaRedirect, None, None),
            ErrorCode::InvalidGrant
        );
        let webpage = code(None, None);
        assert!(check_redemption(&webpage, CibaRedirect, None, None).is_ok());
        assert_eq!(
            err(&webpage, AuthorizationCode, Some(URI), None),
            ErrorCode::InvalidGrant
        );
        let pkce = code(Some(URI), Some(CHALLENGE));
        assert!(check_redemption(&pkce, AuthorizationCode, Some(URI), Some(VERIFIER)).is_ok());
        assert_eq!(
            err(
                &pkce,
                AuthorizationCode,
                Some(URI),
                Some("wrong-verifier-wrong-verifier-wrong-verifier-00")
            ),
            ErrorCode::InvalidGrant
        );
        assert!(check_redemption(&pkce, AuthorizationCode, Some(URI), None).is_err());
    }
}
