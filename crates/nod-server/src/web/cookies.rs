//! Nod's cookies: the browser binding (`nod_bid`, a random value every login request of
//! this browser is bound to, stored hashed) and the remember-me token (`nod_remember`).
//! `HttpOnly`, `SameSite=Lax`, and `Secure` when the public URL is https.
//!
//! On https their names carry the `__Host-` prefix: a browser then accepts them only
//! from this very host, over https, for the whole site, so no subdomain and no plain-http
//! page can plant one. And a binding value is signed ([`crypto::signed_binding`]): one
//! Nod did not issue is never adopted, whoever managed to set it.

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use nod_core::crypto;

use crate::config::ServerConfig;

/// Which cookie.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Name {
    Binding,
    Remember,
}

impl Name {
    /// The cookie's name under this configuration.
    pub(crate) fn of(self, config: &ServerConfig) -> &'static str {
        match (self, config.secure_cookies()) {
            (Name::Binding, false) => "nod_bid",
            (Name::Binding, true) => "__Host-nod_bid",
            (Name::Remember, false) => "nod_remember",
            (Name::Remember, true) => "__Host-nod_remember",
        }
    }
}

/// How long the binding cookie lives, days.
const BINDING_DAYS: i64 = 400;

pub(crate) fn cookie(
    config: &ServerConfig,
    name: Name,
    value: String,
    max_age_days: i64,
) -> Cookie<'static> {
    Cookie::build((name.of(config), value))
        .path("/")
        .http_only(true)
        .secure(config.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(max_age_days))
        .build()
}

/// The hash of this browser's binding cookie, setting a new cookie if it has none (or
/// one Nod did not sign with `key`).
pub(crate) fn browser_binding(
    config: &ServerConfig,
    key: &[u8],
    jar: CookieJar,
) -> (CookieJar, Vec<u8>) {
    if let Some(existing) = binding(config, key, &jar) {
        let hash = crypto::hash_secret(existing).to_vec();
        return (jar, hash);
    }
    let value = crypto::signed_binding(key);
    let hash = crypto::hash_secret(&value).to_vec();
    (
        jar.add(cookie(config, Name::Binding, value, BINDING_DAYS)),
        hash,
    )
}

/// The binding cookie's value, when Nod signed it with `key`.
pub(crate) fn binding<'j>(
    config: &ServerConfig,
    key: &[u8],
    jar: &'j CookieJar,
) -> Option<&'j str> {
    jar.get(Name::Binding.of(config))
        .map(|c| c.value())
        .filter(|v| crypto::verify_binding(key, v))
}

/// The remember-me token, when the browser has one.
pub(crate) fn remember_token<'j>(config: &ServerConfig, jar: &'j CookieJar) -> Option<&'j str> {
    jar.get(Name::Remember.of(config)).map(|c| c.value())
}
