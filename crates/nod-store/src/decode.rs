//! What both stores read back: the column lists their statements select (the same names
//! in SQLite and PostgreSQL) and the strict parsers that turn stored values into domain
//! values. A value this version never writes (an unknown enum name, a bad UUID, bad JSON,
//! unknown scope bits, a choices column that is not three numbers) is a
//! [`StoreError::Corrupt`], never a silent default.

use nod_core::StoredEnum;
use nod_core::scope::ScopeSet;
use uuid::Uuid;

use crate::{BoxError, DeliveryAuth, Result, StoreError};

/// The error for an unreadable value of `table.column`.
pub(crate) fn corrupt(column: &str, source: impl Into<BoxError>) -> StoreError {
    StoreError::Corrupt {
        column: column.to_owned(),
        source: source.into(),
    }
}

/// Why a stored value is unreadable, when no parser said so.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Invalid {
    #[error("unknown value '{0}'")]
    UnknownName(String),
    #[error("unknown scope bits {0:#x}")]
    ScopeBits(i64),
    #[error("'{0}' is not three numbers from 0 to 255")]
    Choices(String),
    #[error("{0} is out of range")]
    OutOfRange(i64),
    #[error("{0}")]
    Inconsistent(&'static str),
}

pub(crate) fn uuid(column: &str, text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| corrupt(column, e))
}

pub(crate) fn opt_uuid(column: &str, text: Option<&str>) -> Result<Option<Uuid>> {
    text.map(|t| uuid(column, t)).transpose()
}

/// A stored enum name; an unknown name is an error.
pub(crate) fn stored<T: StoredEnum>(column: &str, name: &str) -> Result<T> {
    T::from_stored(name).ok_or_else(|| corrupt(column, Invalid::UnknownName(name.to_owned())))
}

pub(crate) fn opt_stored<T: StoredEnum>(column: &str, name: Option<&str>) -> Result<Option<T>> {
    name.map(|n| stored(column, n)).transpose()
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

pub(crate) fn opt_json<T: serde::de::DeserializeOwned>(
    column: &str,
    text: Option<&str>,
) -> Result<Option<T>> {
    text.map(|t| json(column, t)).transpose()
}

/// A scope set; bits that stand for no scope are an error.
pub(crate) fn scopes(column: &str, bits: i64) -> Result<ScopeSet> {
    let set = ScopeSet::from_bits(bits);
    let known: ScopeSet = set.iter().collect();
    if known.bits() == bits {
        Ok(known)
    } else {
        Err(corrupt(column, Invalid::ScopeBits(bits)))
    }
}

/// The three numbers the app offers, stored as `a,b,c`.
pub(crate) fn choices_text(c: [u8; 3]) -> String {
    format!("{},{},{}", c[0], c[1], c[2])
}

pub(crate) fn choices(column: &str, text: &str) -> Result<[u8; 3]> {
    let bad = || corrupt(column, Invalid::Choices(text.to_owned()));
    let mut numbers = text.split(',').map(|n| n.parse::<u8>());
    let mut next = || numbers.next().and_then(|n| n.ok()).ok_or_else(bad);
    let parsed = [next()?, next()?, next()?];
    if numbers.next().is_some() {
        return Err(bad());
    }
    Ok(parsed)
}

pub(crate) fn small(column: &str, n: i64) -> Result<u8> {
    u8::try_from(n).map_err(|_| corrupt(column, Invalid::OutOfRange(n)))
}

// The columns each reader reads, in its order: `concat!` them into the statements.

/// How a delivery authenticates, as both stores keep it: `auth` names the kind, `secret`
/// holds the bearer token or the HMAC key.
pub(crate) fn delivery_auth(auth: &DeliveryAuth) -> (&'static str, Option<&str>) {
    match auth {
        DeliveryAuth::None => ("none", None),
        DeliveryAuth::Bearer(token) => ("bearer", Some(token)),
        DeliveryAuth::Hmac(secret) => ("hmac", Some(secret)),
    }
}

/// A delivery's authentication from its stored kind and secret.
pub(crate) fn read_delivery_auth(kind: String, secret: Option<String>) -> Result<DeliveryAuth> {
    match (kind.as_str(), secret) {
        ("none", None) => Ok(DeliveryAuth::None),
        ("bearer", Some(token)) => Ok(DeliveryAuth::Bearer(token)),
        ("hmac", Some(secret)) => Ok(DeliveryAuth::Hmac(secret)),
        ("none" | "bearer" | "hmac", _) => Err(corrupt(
            "deliveries.secret",
            Invalid::Inconsistent("a secret that does not go with the kind"),
        )),
        _ => Err(corrupt("deliveries.auth", Invalid::UnknownName(kind))),
    }
}

/// A count stored as a signed integer, as an attempt count.
pub(crate) fn count(column: &str, n: i64) -> Result<u32> {
    u32::try_from(n).map_err(|_| corrupt(column, Invalid::OutOfRange(n)))
}

macro_rules! sales_unit_columns {
    () => {
        "client_id, secret_hash, name, redirect_uris, auth_method, msn, allow_nin, ciba_mode, ciba_notification_endpoint, webhook_url, consent_texts, created_at"
    };
}
macro_rules! user_columns {
    () => {
        "id, phone_number, given_name, family_name, email, birthdate, nin, addresses, email_verified, active, created_at"
    };
}
macro_rules! login_request_columns {
    () => {
        "id, kind, auth_req_id, binding_message, notification_token, last_polled_at, delegated_answers, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method, flow, app_callback_uri, final_redirect_is_app, acr_app_auth, prompt, response_mode, browser_binding, csrf_token, status, user_id, challenge, choices, remember_browser, amr, error, created_at, expires_at, auth_time"
    };
}
macro_rules! auth_code_columns {
    () => {
        "code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge, code_challenge_method, sid, auth_time, amr, acr, auth_req_id, expires_at"
    };
}
macro_rules! merchant_token_columns {
    () => {
        "token_hash, client_id, expires_at"
    };
}
macro_rules! webhook_columns {
    () => {
        "id, client_id, url, events, secret, created_at"
    };
}
macro_rules! consent_columns {
    () => {
        "user_id, client_id, scopes, granted_at"
    };
}
macro_rules! browser_columns {
    () => {
        "id, user_id, label, created_at, last_used_at, expires_at"
    };
}
macro_rules! device_columns {
    () => {
        "id, user_id, name, created_at, last_used_at, expires_at"
    };
}
macro_rules! signing_key_columns {
    () => {
        "kid, alg, private_der, public_jwk, created_at, active_from, retired_at"
    };
}
macro_rules! audit_columns {
    () => {
        "id, at, event, user_id, client_id, detail"
    };
}
macro_rules! partner_columns {
    () => {
        "id, secret_hash, name, created_at"
    };
}
macro_rules! delivery_columns {
    () => {
        "id, url, content_type, body, auth, secret, attempts, due_at, created_at"
    };
}
macro_rules! partner_token_columns {
    () => {
        "token_hash, partner_id, expires_at"
    };
}
pub(crate) use {
    audit_columns, auth_code_columns, browser_columns, consent_columns, delivery_columns,
    device_columns, login_request_columns, merchant_token_columns, partner_columns,
    partner_token_columns, sales_unit_columns, signing_key_columns, user_columns, webhook_columns,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_exactly_three_small_numbers() {
        assert_eq!(choices("c", "12,34,56").ok(), Some([12, 34, 56]));
        for bad in [
            "",
            "12,34",
            "12,34,56,78",
            "12,x,56",
            "12,34,256",
            "12,-1,3",
            "1,2,3,",
        ] {
            assert!(
                matches!(choices("c", bad), Err(StoreError::Corrupt { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_scope_bits_are_refused() {
        let known = ScopeSet::parse("openid email").map(|s| s.bits()).ok();
        assert_eq!(
            known.and_then(|b| scopes("s", b).ok()).map(|s| s.bits()),
            known
        );
        assert!(scopes("s", 1 << 12).is_err());
        assert!(scopes("s", -1).is_err());
        assert!(scopes("s", 1 << 20).is_err());
    }

    #[test]
    fn challenges_fit_in_a_byte() {
        assert_eq!(small("c", 99).ok(), Some(99));
        assert!(small("c", 256).is_err());
        assert!(small("c", -1).is_err());
    }
}
