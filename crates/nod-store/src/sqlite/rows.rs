//! The SQLite rows: one `FromRow` struct per table, holding the columns as SQLite stores
//! them, and a strict conversion into the domain type. A value this version never writes
//! (an unknown enum name, a bad UUID, bad JSON, unknown scope bits, a choices column that
//! is not three numbers) is a [`StoreError::Corrupt`], never a silent default.

use nod_core::grant::{AccessToken, AuthCode, MerchantToken};
use nod_core::login::{Ciba, Consent, Device, Kind, LoginRequest, RememberedBrowser};
use nod_core::partner::{Partner, PartnerToken};
use nod_core::sales_unit::SalesUnit;
use nod_core::scope::ScopeSet;
use nod_core::user::User;
use nod_core::webhook::{Webhook, WebhookEvent};
use nod_core::{StoredEnum, Timestamp};
use sqlx::FromRow;
use uuid::Uuid;

use crate::{BoxError, Result, SigningKey, StoreError};

/// The error for an unreadable value of `table.column`.
pub(super) fn corrupt(column: &str, source: impl Into<BoxError>) -> StoreError {
    StoreError::Corrupt {
        column: column.to_owned(),
        source: source.into(),
    }
}

/// Why a stored value is unreadable, when no parser said so.
#[derive(Debug, thiserror::Error)]
pub(super) enum Invalid {
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

fn uuid(column: &str, text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| corrupt(column, e))
}

fn opt_uuid(column: &str, text: Option<&str>) -> Result<Option<Uuid>> {
    text.map(|t| uuid(column, t)).transpose()
}

/// A stored enum name; an unknown name is an error.
fn stored<T: StoredEnum>(column: &str, name: &str) -> Result<T> {
    T::from_stored(name).ok_or_else(|| corrupt(column, Invalid::UnknownName(name.to_owned())))
}

fn opt_stored<T: StoredEnum>(column: &str, name: Option<&str>) -> Result<Option<T>> {
    name.map(|n| stored(column, n)).transpose()
}

fn json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

fn opt_json<T: serde::de::DeserializeOwned>(column: &str, text: Option<&str>) -> Result<Option<T>> {
    text.map(|t| json(column, t)).transpose()
}

/// A scope set; bits that stand for no scope are an error.
fn scopes(column: &str, bits: i64) -> Result<ScopeSet> {
    let set = ScopeSet::from_bits(bits);
    let known: ScopeSet = set.iter().collect();
    if known.bits() == bits {
        Ok(known)
    } else {
        Err(corrupt(column, Invalid::ScopeBits(bits)))
    }
}

/// The three numbers the app offers, stored as `a,b,c`.
pub(super) fn choices_text(c: [u8; 3]) -> String {
    format!("{},{},{}", c[0], c[1], c[2])
}

fn choices(column: &str, text: &str) -> Result<[u8; 3]> {
    let bad = || corrupt(column, Invalid::Choices(text.to_owned()));
    let mut numbers = text.split(',').map(|n| n.parse::<u8>());
    let mut next = || numbers.next().and_then(|n| n.ok()).ok_or_else(bad);
    let parsed = [next()?, next()?, next()?];
    if numbers.next().is_some() {
        return Err(bad());
    }
    Ok(parsed)
}

fn small(column: &str, n: i64) -> Result<u8> {
    u8::try_from(n).map_err(|_| corrupt(column, Invalid::OutOfRange(n)))
}

#[derive(FromRow)]
pub(super) struct SalesUnitRow {
    client_id: String,
    secret_hash: Vec<u8>,
    name: String,
    redirect_uris: String,
    auth_method: String,
    msn: Option<String>,
    allow_nin: bool,
    ciba_mode: String,
    ciba_notification_endpoint: Option<String>,
    webhook_url: Option<String>,
    consent_texts: Option<String>,
    created_at: Timestamp,
}

impl TryFrom<SalesUnitRow> for SalesUnit {
    type Error = StoreError;

    fn try_from(r: SalesUnitRow) -> Result<Self> {
        Ok(SalesUnit {
            redirect_uris: json("sales_units.redirect_uris", &r.redirect_uris)?,
            auth_method: stored("sales_units.auth_method", &r.auth_method)?,
            ciba_mode: stored("sales_units.ciba_mode", &r.ciba_mode)?,
            consent_texts: opt_json("sales_units.consent_texts", r.consent_texts.as_deref())?,
            client_id: r.client_id,
            secret_hash: r.secret_hash,
            name: r.name,
            msn: r.msn,
            allow_nin: r.allow_nin,
            ciba_notification_endpoint: r.ciba_notification_endpoint,
            webhook_url: r.webhook_url,
            created_at: r.created_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct UserRow {
    id: String,
    phone_number: String,
    given_name: String,
    family_name: String,
    email: String,
    birthdate: String,
    nin: String,
    addresses: String,
    email_verified: bool,
    active: bool,
    created_at: Timestamp,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: uuid("users.id", &r.id)?,
            addresses: json("users.addresses", &r.addresses)?,
            phone_number: r.phone_number,
            given_name: r.given_name,
            family_name: r.family_name,
            email: r.email,
            birthdate: r.birthdate,
            nin: r.nin,
            email_verified: r.email_verified,
            active: r.active,
            created_at: r.created_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct LoginRequestRow {
    id: String,
    kind: String,
    auth_req_id: Option<String>,
    binding_message: Option<String>,
    notification_token: Option<String>,
    last_polled_at: Option<Timestamp>,
    delegated_answers: Option<String>,
    client_id: String,
    redirect_uri: String,
    scopes: i64,
    state: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    flow: String,
    app_callback_uri: Option<String>,
    final_redirect_is_app: bool,
    acr_app_auth: bool,
    prompt: String,
    response_mode: String,
    browser_binding: Vec<u8>,
    csrf_token: String,
    status: String,
    user_id: Option<String>,
    challenge: Option<i64>,
    choices: Option<String>,
    remember_browser: bool,
    amr: Option<String>,
    error: Option<String>,
    created_at: Timestamp,
    expires_at: Timestamp,
    auth_time: Option<Timestamp>,
}

impl TryFrom<LoginRequestRow> for LoginRequest {
    type Error = StoreError;

    fn try_from(r: LoginRequestRow) -> Result<Self> {
        let kind = stored("login_requests.kind", &r.kind)?;
        // A merchant-initiated request always has its auth_req_id, a browser one never.
        let ciba = match (kind, r.auth_req_id) {
            (Kind::MerchantInitiated, Some(auth_req_id)) => Some(Ciba {
                auth_req_id,
                binding_message: r.binding_message,
                notification_token: r.notification_token,
                last_polled_at: r.last_polled_at,
            }),
            (Kind::Browser, None) => None,
            (Kind::MerchantInitiated, None) => {
                return Err(corrupt(
                    "login_requests.auth_req_id",
                    Invalid::Inconsistent("missing on a merchant-initiated request"),
                ));
            }
            (Kind::Browser, Some(_)) => {
                return Err(corrupt(
                    "login_requests.auth_req_id",
                    Invalid::Inconsistent("set on a browser request"),
                ));
            }
        };
        Ok(LoginRequest {
            id: uuid("login_requests.id", &r.id)?,
            kind,
            ciba,
            delegated_answers: opt_json(
                "login_requests.delegated_answers",
                r.delegated_answers.as_deref(),
            )?,
            scopes: scopes("login_requests.scopes", r.scopes)?,
            code_challenge_method: opt_stored(
                "login_requests.code_challenge_method",
                r.code_challenge_method.as_deref(),
            )?,
            flow: stored("login_requests.flow", &r.flow)?,
            prompt: stored("login_requests.prompt", &r.prompt)?,
            response_mode: stored("login_requests.response_mode", &r.response_mode)?,
            status: stored("login_requests.status", &r.status)?,
            user_id: opt_uuid("login_requests.user_id", r.user_id.as_deref())?,
            challenge: r
                .challenge
                .map(|c| small("login_requests.challenge", c))
                .transpose()?,
            choices: r
                .choices
                .map(|c| choices("login_requests.choices", &c))
                .transpose()?,
            amr: opt_stored("login_requests.amr", r.amr.as_deref())?,
            error: opt_stored("login_requests.error", r.error.as_deref())?,
            client_id: r.client_id,
            redirect_uri: r.redirect_uri,
            state: r.state,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            app_callback_uri: r.app_callback_uri,
            final_redirect_is_app: r.final_redirect_is_app,
            acr_app_auth: r.acr_app_auth,
            browser_binding: r.browser_binding,
            csrf_token: r.csrf_token,
            remember_browser: r.remember_browser,
            created_at: r.created_at,
            expires_at: r.expires_at,
            auth_time: r.auth_time,
        })
    }
}

#[derive(FromRow)]
pub(super) struct AuthCodeRow {
    code_hash: Vec<u8>,
    client_id: String,
    user_id: String,
    redirect_uri: Option<String>,
    scopes: i64,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    sid: String,
    auth_time: Timestamp,
    amr: String,
    acr: Option<String>,
    auth_req_id: Option<String>,
    expires_at: Timestamp,
}

impl TryFrom<AuthCodeRow> for AuthCode {
    type Error = StoreError;

    fn try_from(r: AuthCodeRow) -> Result<Self> {
        Ok(AuthCode {
            user_id: uuid("auth_codes.user_id", &r.user_id)?,
            scopes: scopes("auth_codes.scopes", r.scopes)?,
            code_challenge_method: opt_stored(
                "auth_codes.code_challenge_method",
                r.code_challenge_method.as_deref(),
            )?,
            sid: uuid("auth_codes.sid", &r.sid)?,
            amr: stored("auth_codes.amr", &r.amr)?,
            code_hash: r.code_hash,
            client_id: r.client_id,
            redirect_uri: r.redirect_uri,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            auth_time: r.auth_time,
            acr: r.acr,
            auth_req_id: r.auth_req_id,
            expires_at: r.expires_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct AccessTokenRow {
    token_hash: Vec<u8>,
    client_id: String,
    user_id: String,
    scopes: i64,
    sid: String,
    code_hash: Option<Vec<u8>>,
    expires_at: Timestamp,
}

impl TryFrom<AccessTokenRow> for AccessToken {
    type Error = StoreError;

    fn try_from(r: AccessTokenRow) -> Result<Self> {
        Ok(AccessToken {
            user_id: uuid("access_tokens.user_id", &r.user_id)?,
            scopes: scopes("access_tokens.scopes", r.scopes)?,
            sid: uuid("access_tokens.sid", &r.sid)?,
            token_hash: r.token_hash,
            client_id: r.client_id,
            code_hash: r.code_hash,
            expires_at: r.expires_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct MerchantTokenRow {
    token_hash: Vec<u8>,
    client_id: String,
    expires_at: Timestamp,
}

impl TryFrom<MerchantTokenRow> for MerchantToken {
    type Error = StoreError;

    fn try_from(r: MerchantTokenRow) -> Result<Self> {
        Ok(MerchantToken {
            token_hash: r.token_hash,
            client_id: r.client_id,
            expires_at: r.expires_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct WebhookRow {
    id: String,
    client_id: String,
    url: String,
    events: String,
    secret: String,
    created_at: Timestamp,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;

    fn try_from(r: WebhookRow) -> Result<Self> {
        let names: Vec<String> = json("webhooks.events", &r.events)?;
        if names.is_empty() {
            return Err(corrupt(
                "webhooks.events",
                Invalid::Inconsistent("a registration without events"),
            ));
        }
        let events = names
            .iter()
            .map(|name| stored::<WebhookEvent>("webhooks.events", name))
            .collect::<Result<Vec<_>>>()?;
        Ok(Webhook {
            id: uuid("webhooks.id", &r.id)?,
            client_id: r.client_id,
            url: r.url,
            events,
            secret: r.secret,
            created_at: r.created_at,
        })
    }
}

/// An access token joined with its user (the two tables share no column name).
#[derive(FromRow)]
pub(super) struct AccessTokenUserRow {
    #[sqlx(flatten)]
    token: AccessTokenRow,
    #[sqlx(flatten)]
    user: UserRow,
}

impl TryFrom<AccessTokenUserRow> for (AccessToken, User) {
    type Error = StoreError;

    fn try_from(r: AccessTokenUserRow) -> Result<Self> {
        Ok((r.token.try_into()?, r.user.try_into()?))
    }
}

#[derive(FromRow)]
pub(super) struct ConsentRow {
    user_id: String,
    client_id: String,
    scopes: i64,
    granted_at: Timestamp,
}

impl TryFrom<ConsentRow> for Consent {
    type Error = StoreError;

    fn try_from(r: ConsentRow) -> Result<Self> {
        Ok(Consent {
            user_id: uuid("consents.user_id", &r.user_id)?,
            scopes: scopes("consents.scopes", r.scopes)?,
            client_id: r.client_id,
            granted_at: r.granted_at,
        })
    }
}

/// A remembered browser's person, and their consent for one sales unit (if any).
#[derive(FromRow)]
pub(super) struct RememberedRow {
    #[sqlx(flatten)]
    user: UserRow,
    consent_scopes: Option<i64>,
    consent_granted_at: Option<Timestamp>,
}

impl RememberedRow {
    pub(super) fn into_parts(self, client_id: &str) -> Result<(User, Option<Consent>)> {
        let user = User::try_from(self.user)?;
        let consent = match (self.consent_scopes, self.consent_granted_at) {
            (Some(bits), Some(granted_at)) => Some(Consent {
                user_id: user.id,
                client_id: client_id.to_owned(),
                scopes: scopes("consents.scopes", bits)?,
                granted_at,
            }),
            _ => None,
        };
        Ok((user, consent))
    }
}

#[derive(FromRow)]
pub(super) struct BrowserRow {
    id: String,
    user_id: String,
    label: String,
    created_at: Timestamp,
    last_used_at: Timestamp,
    expires_at: Timestamp,
}

impl TryFrom<BrowserRow> for RememberedBrowser {
    type Error = StoreError;

    fn try_from(r: BrowserRow) -> Result<Self> {
        Ok(RememberedBrowser {
            id: uuid("browsers.id", &r.id)?,
            user_id: uuid("browsers.user_id", &r.user_id)?,
            label: r.label,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct DeviceRow {
    id: String,
    user_id: String,
    created_at: Timestamp,
}

impl TryFrom<DeviceRow> for Device {
    type Error = StoreError;

    fn try_from(r: DeviceRow) -> Result<Self> {
        Ok(Device {
            id: uuid("devices.id", &r.id)?,
            user_id: uuid("devices.user_id", &r.user_id)?,
            created_at: r.created_at,
        })
    }
}

/// A signing key; every column maps as stored.
#[derive(FromRow)]
pub(super) struct SigningKeyRow {
    kid: String,
    alg: String,
    private_der: Vec<u8>,
    public_n: String,
    public_e: String,
    created_at: Timestamp,
    active_from: Timestamp,
    retired_at: Option<Timestamp>,
}

impl From<SigningKeyRow> for SigningKey {
    fn from(r: SigningKeyRow) -> Self {
        SigningKey {
            kid: r.kid,
            alg: r.alg,
            private_der: r.private_der,
            public_n: r.public_n,
            public_e: r.public_e,
            created_at: r.created_at,
            active_from: r.active_from,
            retired_at: r.retired_at,
        }
    }
}

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

#[derive(FromRow)]
pub(super) struct PartnerRow {
    pub(super) id: String,
    secret_hash: Vec<u8>,
    name: String,
    created_at: Timestamp,
}

impl PartnerRow {
    /// The partner, with its MSNs (read from `partner_msns`).
    pub(super) fn with_msns(self, msns: Vec<String>) -> Partner {
        Partner {
            id: self.id,
            secret_hash: self.secret_hash,
            name: self.name,
            msns,
            created_at: self.created_at,
        }
    }
}

#[derive(FromRow)]
pub(super) struct PartnerTokenRow {
    token_hash: Vec<u8>,
    partner_id: String,
    expires_at: Timestamp,
}

impl TryFrom<PartnerTokenRow> for PartnerToken {
    type Error = StoreError;

    fn try_from(r: PartnerTokenRow) -> Result<Self> {
        Ok(PartnerToken {
            token_hash: r.token_hash,
            partner_id: r.partner_id,
            expires_at: r.expires_at,
        })
    }
}
