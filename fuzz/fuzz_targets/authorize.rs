//! The authorization request's query string, as `GET …/oauth2/auth` receives it: parsed
//! into parameters (RFC 6749 §3.1 rules), its client read, validated for a known sales
//! unit, and the partner-keys rewrite of `msn` into `client_id`.
//!
//! Checks: nothing panics; a valid request keeps within the limits the endpoint promises
//! (registered redirect URI, `state` of 8 to 1000 characters, `openid` among scopes the
//! client may ask for, well-formed PKCE challenge); an error sent to the merchant goes only
//! to a registered redirect URI and carries back at most 1000 characters of `state`; the
//! rewritten query parses to the same parameters with `client_id` in place of `msn`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nod_core::authorize::{self, AuthorizeError, Flow, MAX_OPAQUE_PARAM, MIN_STATE};
use nod_core::params::Params;
use nod_core::pkce;
use nod_core::sales_unit::{AuthMethod, CibaMode, SalesUnit};
use nod_core::scope::Scope;

fn unit() -> SalesUnit {
    SalesUnit {
        client_id: "shop".into(),
        secret_hash: vec![0; 32],
        name: "Shop".into(),
        redirect_uris: vec![
            "https://shop.example/cb".into(),
            "shopapp://cb".into(),
            "http://localhost:3000/callback?x=1".into(),
        ],
        auth_method: AuthMethod::ClientSecretBasic,
        msn: Some("123456".into()),
        allow_nin: false,
        ciba_mode: CibaMode::Poll,
        ciba_notification_endpoint: None,
        webhook_url: None,
        consent_texts: None,
        created_at: 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(params) = Params::parse(data) else {
        return;
    };
    let unit = unit();
    if let Ok(client_id) = authorize::client_id(&params) {
        assert!(!client_id.is_empty() && client_id.chars().count() <= 200);
    }
    match authorize::validate(&params, &unit) {
        Ok(request) => {
            assert!(unit.has_redirect_uri(&request.redirect_uri));
            let state = request.state.chars().count();
            assert!((MIN_STATE..=MAX_OPAQUE_PARAM).contains(&state));
            assert!(
                request
                    .nonce
                    .as_ref()
                    .is_none_or(|n| n.chars().count() <= MAX_OPAQUE_PARAM)
            );
            assert!(request.scopes.contains(Scope::OpenId));
            assert!(request.scopes.is_subset_of(unit.allowed_browser_scopes()));
            if let Some((challenge, _)) = &request.code_challenge {
                assert!(pkce::is_well_formed(challenge));
            }
            if let Some(uri) = &request.app_callback_uri {
                assert!(unit.has_redirect_uri(uri));
            }
            if request.flow == Flow::AppToApp {
                assert!(request.app_callback_uri.is_some());
            }
            if request.flow == Flow::AppToAppV2 {
                assert!(request.code_challenge.is_some());
            }
            // The granted scope prints and parses back to itself.
            let printed = request.scopes.to_string();
            assert_eq!(
                nod_core::scope::ScopeSet::parse(&printed).ok(),
                Some(request.scopes)
            );
        }
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
            ..
        }) => {
            assert!(unit.has_redirect_uri(&redirect_uri));
            assert!(state.is_none_or(|s| s.chars().count() <= MAX_OPAQUE_PARAM));
            assert!(!error.description.is_empty());
        }
        Err(AuthorizeError::Page(error)) => assert!(!error.description.is_empty()),
    }

    // Partner keys: a query naming its merchant by `msn` alone is rewritten for the client.
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    if let (Ok(Some(_)), Ok(None)) = (params.get_bounded("msn", 100), params.get("client_id")) {
        let rewritten = nod_core::partner::replace_msn(query, "shop");
        let after = Params::parse(rewritten.as_bytes()).expect("the rewrite parses");
        assert_eq!(after.get("client_id").ok(), Some(Some("shop")));
        assert_eq!(after.get("msn").ok(), Some(None));
        for name in ["redirect_uri", "state", "scope", "nonce", "response_type"] {
            assert_eq!(
                after.get(name).ok(),
                params.get(name).ok(),
                "{name} changed in the rewrite"
            );
        }
    }
});
