//! The discovery document (OpenID Connect Discovery 1.0): only what Nod really does. Built
//! once at start-up from the settings.

use nod_core::authorize;
use nod_core::scope::Scope;
use serde_json::{Value, json};

use crate::config::ServerConfig;
use crate::paths::{self, GRANT_AUTHORIZATION_CODE, GRANT_CIBA, GRANT_CIBA_REDIRECT};

/// The discovery document: only what Nod really does.
pub(crate) fn document(config: &ServerConfig) -> Value {
    let base = config.base();
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    json!({
        "issuer": config.issuer(),
        "authorization_endpoint": format!("{base}{}", paths::AUTHORIZE),
        "token_endpoint": format!("{base}{}", paths::TOKEN),
        "userinfo_endpoint": format!("{base}{}", paths::USERINFO),
        "revocation_endpoint": format!("{base}{}", paths::REVOKE),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "jwks_uri": format!("{base}{}", paths::JWKS),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": [GRANT_AUTHORIZATION_CODE, GRANT_CIBA, GRANT_CIBA_REDIRECT],
        "backchannel_authentication_endpoint": format!("{base}{}", paths::CIBA_START),
        "backchannel_token_delivery_modes_supported": ["poll", "ping"],
        "backchannel_user_code_parameter_supported": false,
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "scopes_supported": scopes,
        "claims_supported": [
            "sub", "sid", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash", "msn",
            "name", "given_name", "family_name", "email", "email_verified", "address", "other_addresses",
            "phone_number", "phone_number_verified", "birthdate", "nin"
        ],
        "acr_values_supported": [authorize::ACR_APP_AUTH],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}
