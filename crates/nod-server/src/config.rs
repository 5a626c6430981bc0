//! The server's settings, each with its default. The `nod` binary fills them from flags,
//! `NOD_*` environment variables and a TOML file.

use nod_core::signing::SigningAlg;
use serde::{Deserialize, Serialize};

/// Everything the server needs to know that is not in the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Public base URL, as browsers and merchants reach Nod. Default `http://localhost:8080`.
    pub public_url: String,
    /// Test mode: devices register without an activation code. Default off (`--demo` turns it on).
    pub test_mode: bool,
    /// Lifetime of an authorization code, seconds. Default 60.
    pub code_lifetime: i64,
    /// Lifetime of an access token, seconds. Default 600.
    pub access_token_lifetime: i64,
    /// Lifetime of an access token from a merchant-initiated login, seconds. Default 300.
    pub ciba_access_token_lifetime: i64,
    /// Lifetime of a `ciba-redirect` code (merchant-initiated login to a web page),
    /// seconds. Default 30; 300 in test mode.
    pub ciba_redirect_code_lifetime: Option<i64>,
    /// Lifetime of a merchant API access token from `POST /accesstoken/get` (it authorizes
    /// the webhooks API), seconds. Default 3600, as the Vipps test environment's tokens.
    pub merchant_token_lifetime: i64,
    /// Lifetime of an ID token, seconds. Default 3600.
    pub id_token_lifetime: i64,
    /// How long a login request waits for the app, seconds. Default 300.
    pub login_request_lifetime: i64,
    /// How long a browser stays remembered, days. Default 180.
    pub remember_days: i64,
    /// How long a registered app's token works without being used, days. Default 90.
    pub device_idle_days: i64,
    /// Most login requests waiting for one person (merchant-initiated) or one phone number
    /// (the phone-number form) at once. Default 3.
    pub max_pending_per_user: usize,
    /// Login requests one phone number or person may get in ten minutes, however they
    /// end (cancelled, rejected, expired): cancelling each at once does not get past it.
    /// Default 10.
    pub max_requests_per_number_per_10_minutes: u32,
    /// Phone numbers one address may submit on the login page per minute. Default 20.
    pub phone_form_per_ip_per_minute: u32,
    /// Device activations (an activation code tried in the app) one address may make
    /// per minute, counted apart from the phone-number form. Default 10.
    pub device_activation_per_ip_per_minute: u32,
    /// Logins one address may start at the authorization endpoint per minute (each one
    /// stores a login request). Default 300.
    pub authorize_per_ip_per_minute: u32,
    /// Merchant-initiated logins one sales unit may start per minute. Default 600.
    pub ciba_start_per_client_per_minute: u32,
    /// `user-exists` questions one sales unit may ask per minute. Default 600.
    pub user_exists_per_client_per_minute: u32,
    /// Deep link that opens the app on a phone; `{ticket}` is replaced. Default
    /// `{public_url}/test-app/open?ticket={ticket}`.
    pub deep_link_template: Option<String>,
    /// Algorithm of the first signing key, and of `nod keys rotate` without `--alg`:
    /// `RS256`, `ES256` or `EdDSA`. Default `RS256`.
    pub signing_alg: SigningAlg,
    /// How long `nod keys rotate` publishes a new key before it signs, seconds. Default
    /// 3600: longer than every instance takes to reread the keys and clients keep the
    /// JWKS (`max-age=300`).
    pub key_publish_before: i64,
    /// How often each instance rereads the signing keys, seconds. Default 60.
    pub key_reload_interval: i64,
    /// How long audit entries are kept, days; the expiry purge deletes older ones.
    /// Default 365.
    pub audit_retention_days: i64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            public_url: "http://localhost:8080".into(),
            test_mode: false,
            code_lifetime: 60,
            access_token_lifetime: 600,
            ciba_access_token_lifetime: 300,
            ciba_redirect_code_lifetime: None,
            merchant_token_lifetime: 3600,
            id_token_lifetime: 3600,
            login_request_lifetime: 300,
            remember_days: 180,
            device_idle_days: 90,
            max_pending_per_user: 3,
            max_requests_per_number_per_10_minutes: 10,
            phone_form_per_ip_per_minute: 20,
            device_activation_per_ip_per_minute: 10,
            authorize_per_ip_per_minute: 300,
            ciba_start_per_client_per_minute: 600,
            user_exists_per_client_per_minute: 600,
            deep_link_template: None,
            signing_alg: SigningAlg::Rs256,
            key_publish_before: 3600,
            key_reload_interval: 60,
            audit_retention_days: 365,
        }
    }
}

impl ServerConfig {
    /// The public URL without a trailing slash.
    pub fn base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// The issuer identifier (with the trailing slash the compatible API has).
    pub fn issuer(&self) -> String {
        format!("{}{}", self.base(), crate::paths::ISSUER_PATH)
    }

    /// How long a `ciba-redirect` code lives: as set, else 300 s in test mode and 30 s
    /// otherwise (as the Vipps documentation gives them).
    pub fn ciba_redirect_code_lifetime(&self) -> i64 {
        self.ciba_redirect_code_lifetime
            .unwrap_or(if self.test_mode { 300 } else { 30 })
    }

    /// Whether cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciba_redirect_codes_live_as_documented_unless_set() {
        let live = ServerConfig::default();
        assert_eq!(live.ciba_redirect_code_lifetime(), 30);
        let test = ServerConfig {
            test_mode: true,
            ..ServerConfig::default()
        };
        assert_eq!(test.ciba_redirect_code_lifetime(), 300);
        let set = ServerConfig {
            ciba_redirect_code_lifetime: Some(90),
            ..test
        };
        assert_eq!(set.ciba_redirect_code_lifetime(), 90);
    }
}
