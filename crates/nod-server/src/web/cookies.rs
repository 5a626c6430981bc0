//! Nod's cookies: the browser binding (`nod_bid`, a random value every login request of
//! this browser is bound to, stored hashed) and the remember-me token (`nod_remember`).
//! `HttpOnly`, `SameSite=Lax`, and `Secure` when the public URL is https.

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use nod_core::crypto;

use crate::config::ServerConfig;

pub(crate) const BINDING_COOKIE: &str = "nod_bid";
pub(crate) const REMEMBER_COOKIE: &str = "nod_remember";

/// How long the binding cookie lives, days.
const BINDING_DAYS: i64 = 400;

pub(crate) fn cookie(
    config: &ServerConfig,
    name: &'static str,
    value: String,
    max_age_days: i64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(config.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(max_age_days))
        .build()
}

/// The hash of this browser's binding cookie, setting a new cookie if it has none.
pub(crate) fn browser_binding(config: &ServerConfig, jar: CookieJar) -> (CookieJar, Vec<u8>) {
    if let Some(existing) = binding(&jar) {
        let hash = crypto::hash_secret(existing).to_vec();
        return (jar, hash);
    }
    let value = crypto::random_secret();
    let hash = crypto::hash_secret(&value).to_vec();
    (
        jar.add(cookie(config, BINDING_COOKIE, value, BINDING_DAYS)),
        hash,
    )
}

/// The binding cookie's value, when it has the shape Nod gives it.
pub(crate) fn binding(jar: &CookieJar) -> Option<&str> {
    jar.get(BINDING_COOKIE)
        .map(|c| c.value())
        .filter(|v| v.len() == 43)
}

/// The remember-me token, when the browser has one.
pub(crate) fn remember_token(jar: &CookieJar) -> Option<&str> {
    jar.get(REMEMBER_COOKIE).map(|c| c.value())
}
