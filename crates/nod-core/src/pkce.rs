//! PKCE (RFC 7636): code challenge methods, and checking a verifier against a challenge.

use crate::{OAuthError, crypto};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    S256,
    Plain,
}

impl ChallengeMethod {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

crate::stored::stored_enum!(ChallengeMethod => [S256, Plain]);

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`. Challenges have the same form.
pub fn is_well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks the `code_verifier` of a token request against the code's challenge.
pub fn verify(
    challenge: Option<(&str, ChallengeMethod)>,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent, but the authorization request had no code_challenge",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is required")),
        (Some((challenge, method)), Some(verifier)) => {
            if !is_well_formed(verifier) {
                return Err(OAuthError::invalid_request(
                    "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]",
                ));
            }
            let ok = match method {
                ChallengeMethod::S256 => crypto::s256(verifier) == challenge,
                ChallengeMethod::Plain => verifier == challenge,
            };
            if ok {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn s256_and_plain() {
        assert!(verify(Some((CHALLENGE, ChallengeMethod::S256)), Some(VERIFIER)).is_ok());
        assert!(verify(Some((VERIFIER, ChallengeMethod::Plain)), Some(VERIFIER)).is_ok());
        let wrong = format!("{}A", &VERIFIER[..42]);
        assert!(verify(Some((CHALLENGE, ChallengeMethod::S256)), Some(&wrong)).is_err());
    }

    #[test]
    fn missing_or_unexpected_verifier() {
        assert!(verify(None, None).is_ok());
        assert!(verify(None, Some(VERIFIER)).is_err());
        assert!(verify(Some((CHALLENGE, ChallengeMethod::S256)), None).is_err());
        let short = verify(Some((CHALLENGE, ChallengeMethod::S256)), Some("short")).unwrap_err();
        assert_eq!(short.code, crate::ErrorCode::InvalidRequest);
    }
}
