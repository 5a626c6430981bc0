//! The form bodies of the client-authenticated endpoints (token, revocation, CIBA start,
//! user exists) and their `Authorization: Basic` header. The input is the credentials
//! of the header (the text after `Basic `), a newline, and the body.
//!
//! Checks: nothing panics; Basic credentials decode to the id and secret a client
//! form-encoded into them, whatever characters they hold, and keep every character of
//! credentials that have nothing to decode; a CIBA start that validates
//! has a valid MSISDN from its `login_hint`, a binding message matching
//! `^[A-Z0-9-]{5,8}$`, an expiry of 60 to 900 seconds, a registered redirect URI and
//! bounded opaque values; a PKCE verifier is accepted only when well formed.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use nod_core::ciba::{self, EXPIRY_RANGE, MSISDN_PREFIX};
use nod_core::params::{self, Params};
use nod_core::sales_unit::{AuthMethod, CibaMode, SalesUnit};
use nod_core::{msisdn, pkce};

fn unit(mode: CibaMode) -> SalesUnit {
    SalesUnit {
        client_id: "pos".into(),
        secret_hash: vec![0; 32],
        name: "Till".into(),
        redirect_uris: vec!["https://shop.example/cb".into()],
        auth_method: AuthMethod::ClientSecretBasic,
        msn: None,
        allow_nin: true,
        ciba_mode: mode,
        ciba_notification_endpoint: Some("https://shop.example/ping".into()),
        webhook_url: None,
        consent_texts: None,
        created_at: 0,
    }
}

/// Form-encodes a value as RFC 6749 §2.3.1 asks of Basic credentials.
fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// RFC 7636 Appendix B.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    if let Ok(header) = std::str::from_utf8(header)
        && let Some((id, secret)) = params::basic_credentials(header)
    {
        assert!(id.len() + secret.len() <= header.len());
        // Without `%` and `+` there is nothing to decode: every character is kept.
        let text = STANDARD
            .decode(header)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((raw_id, raw_secret)) = text.as_deref().and_then(|t| t.split_once(':'))
            && !raw_id.contains(['%', '+'])
            && !raw_secret.contains(['%', '+'])
        {
            assert_eq!((id.as_str(), secret.as_str()), (raw_id, raw_secret));
        }
    }
    let Ok(params) = Params::parse(body) else {
        return;
    };

    // Whatever id and secret a client has, Basic credentials carry them unchanged.
    if let (Ok(Some(id)), Ok(Some(secret))) = (params.get("client_id"), params.get("client_secret"))
    {
        let header = STANDARD.encode(format!("{}:{}", encode(id), encode(secret)));
        let decoded = params::basic_credentials(&header);
        assert_eq!(decoded, Some((id.to_owned(), secret.to_owned())));
    }

    if let Ok(Some(hint)) = params.get("login_hint")
        && let Ok(number) = ciba::parse_login_hint(hint)
    {
        assert!(msisdn::is_valid(&number));
        assert_eq!(format!("{MSISDN_PREFIX}{number}"), hint);
    }

    for mode in [CibaMode::Poll, CibaMode::Ping] {
        let unit = unit(mode);
        if let Ok(request) = ciba::validate(&params, &unit) {
            assert!(msisdn::is_valid(&request.phone_number));
            assert!(
                request
                    .binding_message
                    .as_deref()
                    .is_none_or(ciba::is_valid_binding_message)
            );
            assert!(EXPIRY_RANGE.contains(&request.expires_in));
            assert!(
                request
                    .redirect_uri
                    .as_deref()
                    .is_none_or(|u| unit.has_redirect_uri(u))
            );
            assert!(
                request
                    .notification_token
                    .as_ref()
                    .is_none_or(|t| t.chars().count() <= 1024)
            );
            if mode == CibaMode::Ping {
                assert!(request.notification_token.is_some());
            }
            assert!(
                request
                    .state
                    .as_ref()
                    .is_none_or(|s| s.chars().count() <= 1000)
            );
            assert!(
                request
                    .nonce
                    .as_ref()
                    .is_none_or(|s| s.chars().count() <= 1000)
            );
            assert!(request.scopes.contains(nod_core::scope::Scope::OpenId));
        }
    }

    // The token request's PKCE verifier, against an S256 and a plain challenge.
    if let Ok(verifier) = params.get("code_verifier") {
        for method in [pkce::ChallengeMethod::S256, pkce::ChallengeMethod::Plain] {
            if pkce::verify(Some((CHALLENGE, method)), verifier).is_ok() {
                assert!(verifier.is_some_and(pkce::is_well_formed));
            }
        }
    }
    if let Ok(Some(grant_type)) = params.get("grant_type") {
        assert!(!grant_type.is_empty());
    }
});
