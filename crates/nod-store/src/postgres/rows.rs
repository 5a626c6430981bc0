//! The PostgreSQL rows: for each table, a reader that takes the columns a statement
//! selects (the lists of [`crate::decode`], the same as SQLite's), as PostgreSQL stores
//! them, strictly into the domain type. A value this version never writes (an unknown
//! enum name, a bad UUID, bad JSON, unknown scope bits, a choices column that is not three
//! numbers) is a [`StoreError::Corrupt`](crate::StoreError::Corrupt), never a silent default.

use nod_core::Timestamp;
use nod_core::grant::{AccessToken, AuthCode, MerchantToken};
use nod_core::login::{Ciba, Consent, Device, Kind, LoginRequest, RememberedBrowser};
use nod_core::partner::{Partner, PartnerToken};
use nod_core::sales_unit::SalesUnit;
use nod_core::user::User;
use nod_core::webhook::{Webhook, WebhookEvent};
use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type};

use crate::decode::{
    Invalid, choices, count, json, opt_json, opt_stored, opt_uuid, read_delivery_auth, scopes,
    small, stored, uuid,
};
pub(super) use crate::decode::{
    audit_columns, auth_code_columns, browser_columns, choices_text, consent_columns, corrupt,
    delivery_columns, device_columns, login_request_columns, merchant_token_columns,
    partner_columns, partner_token_columns, sales_unit_columns, signing_key_columns, user_columns,
    webhook_columns,
};
use crate::{AuditEntry, Delivery, Result, SigningKey};

/// Reads the columns of a row by name: a value of the wrong type (text in an integer
/// column, a NULL where none is allowed) or a column the statement did not select is a
/// [`StoreError::Corrupt`](crate::StoreError::Corrupt) of that column.
pub(super) struct Columns<'r> {
    row: &'r PgRow,
    /// What the statement put before each name (`u_` for a user read with a join).
    prefix: &'static str,
}

impl<'r> Columns<'r> {
    pub(super) fn new(row: &'r PgRow) -> Self {
        Self { row, prefix: "" }
    }

    pub(super) fn get<T>(&mut self, name: &str) -> Result<T>
    where
        T: for<'a> Decode<'a, Postgres> + Type<Postgres>,
    {
        let result = if self.prefix.is_empty() {
            self.row.try_get(name)
        } else {
            self.row.try_get(format!("{}{name}", self.prefix).as_str())
        };
        result.map_err(|e| corrupt(name, e))
    }
}

/// A sales unit ([`sales_unit_columns`]).
pub(super) fn sales_unit(row: &PgRow) -> Result<SalesUnit> {
    let mut c = Columns::new(row);
    let client_id = c.get("client_id")?;
    let secret_hash = c.get("secret_hash")?;
    let name = c.get("name")?;
    let redirect_uris: String = c.get("redirect_uris")?;
    let auth_method: String = c.get("auth_method")?;
    let msn = c.get("msn")?;
    let allow_nin = c.get("allow_nin")?;
    let ciba_mode: String = c.get("ciba_mode")?;
    let ciba_notification_endpoint = c.get("ciba_notification_endpoint")?;
    let webhook_url = c.get("webhook_url")?;
    let consent_texts: Option<String> = c.get("consent_texts")?;
    let created_at = c.get("created_at")?;
    Ok(SalesUnit {
        redirect_uris: json("sales_units.redirect_uris", &redirect_uris)?,
        auth_method: stored("sales_units.auth_method", &auth_method)?,
        ciba_mode: stored("sales_units.ciba_mode", &ciba_mode)?,
        consent_texts: opt_json("sales_units.consent_texts", consent_texts.as_deref())?,
        client_id,
        secret_hash,
        name,
        msn,
        allow_nin,
        ciba_notification_endpoint,
        webhook_url,
        created_at,
    })
}

/// A user ([`user_columns`]).
pub(super) fn user(row: &PgRow) -> Result<User> {
    read_user(&mut Columns::new(row))
}

fn read_user(c: &mut Columns<'_>) -> Result<User> {
    let id: String = c.get("id")?;
    let phone_number = c.get("phone_number")?;
    let given_name = c.get("given_name")?;
    let family_name = c.get("family_name")?;
    let email = c.get("email")?;
    let birthdate = c.get("birthdate")?;
    let nin = c.get("nin")?;
    let addresses: String = c.get("addresses")?;
    let email_verified = c.get("email_verified")?;
    let active = c.get("active")?;
    let created_at = c.get("created_at")?;
    Ok(User {
        id: uuid("users.id", &id)?,
        addresses: json("users.addresses", &addresses)?,
        phone_number,
        given_name,
        family_name,
        email,
        birthdate,
        nin,
        email_verified,
        active,
        created_at,
    })
}

/// A login request ([`login_request_columns`]).
pub(super) fn login_request(row: &PgRow) -> Result<LoginRequest> {
    let mut c = Columns::new(row);
    let id: String = c.get("id")?;
    let kind: String = c.get("kind")?;
    let auth_req_id: Option<String> = c.get("auth_req_id")?;
    let binding_message = c.get("binding_message")?;
    let notification_token = c.get("notification_token")?;
    let last_polled_at = c.get("last_polled_at")?;
    let delegated_answers: Option<String> = c.get("delegated_answers")?;
    let client_id = c.get("client_id")?;
    let redirect_uri = c.get("redirect_uri")?;
    let scope_bits: i64 = c.get("scopes")?;
    let state = c.get("state")?;
    let nonce = c.get("nonce")?;
    let code_challenge = c.get("code_challenge")?;
    let code_challenge_method: Option<String> = c.get("code_challenge_method")?;
    let flow: String = c.get("flow")?;
    let app_callback_uri = c.get("app_callback_uri")?;
    let final_redirect_is_app = c.get("final_redirect_is_app")?;
    let acr_app_auth = c.get("acr_app_auth")?;
    let prompt: String = c.get("prompt")?;
    let response_mode: String = c.get("response_mode")?;
    let browser_binding = c.get("browser_binding")?;
    let csrf_token = c.get("csrf_token")?;
    let status: String = c.get("status")?;
    let user_id: Option<String> = c.get("user_id")?;
    let challenge: Option<i64> = c.get("challenge")?;
    let choice_text: Option<String> = c.get("choices")?;
    let remember_browser = c.get("remember_browser")?;
    let amr: Option<String> = c.get("amr")?;
    let error: Option<String> = c.get("error")?;
    let created_at = c.get("created_at")?;
    let expires_at = c.get("expires_at")?;
    let auth_time = c.get("auth_time")?;

    let kind = stored("login_requests.kind", &kind)?;
    // A merchant-initiated request always has its auth_req_id, a browser one never.
    let ciba = match (kind, auth_req_id) {
        (Kind::MerchantInitiated, Some(auth_req_id)) => Some(Ciba {
            auth_req_id,
            binding_message,
            notification_token,
            last_polled_at,
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
        id: uuid("login_requests.id", &id)?,
        kind,
        ciba,
        delegated_answers: opt_json(
            "login_requests.delegated_answers",
            delegated_answers.as_deref(),
        )?,
        scopes: scopes("login_requests.scopes", scope_bits)?,
        code_challenge_method: opt_stored(
            "login_requests.code_challenge_method",
            code_challenge_method.as_deref(),
        )?,
        flow: stored("login_requests.flow", &flow)?,
        prompt: stored("login_requests.prompt", &prompt)?,
        response_mode: stored("login_requests.response_mode", &response_mode)?,
        status: stored("login_requests.status", &status)?,
        user_id: opt_uuid("login_requests.user_id", user_id.as_deref())?,
        challenge: challenge
            .map(|n| small("login_requests.challenge", n))
            .transpose()?,
        choices: choice_text
            .map(|t| choices("login_requests.choices", &t))
            .transpose()?,
        amr: opt_stored("login_requests.amr", amr.as_deref())?,
        error: opt_stored("login_requests.error", error.as_deref())?,
        client_id,
        redirect_uri,
        state,
        nonce,
        code_challenge,
        app_callback_uri,
        final_redirect_is_app,
        acr_app_auth,
        browser_binding,
        csrf_token,
        remember_browser,
        created_at,
        expires_at,
        auth_time,
    })
}

/// An authorization code ([`auth_code_columns`]).
pub(super) fn auth_code(row: &PgRow) -> Result<AuthCode> {
    let mut c = Columns::new(row);
    let code_hash = c.get("code_hash")?;
    let client_id = c.get("client_id")?;
    let user_id: String = c.get("user_id")?;
    let redirect_uri = c.get("redirect_uri")?;
    let scope_bits: i64 = c.get("scopes")?;
    let nonce = c.get("nonce")?;
    let code_challenge = c.get("code_challenge")?;
    let code_challenge_method: Option<String> = c.get("code_challenge_method")?;
    let sid: String = c.get("sid")?;
    let auth_time = c.get("auth_time")?;
    let amr: String = c.get("amr")?;
    let acr = c.get("acr")?;
    let auth_req_id = c.get("auth_req_id")?;
    let expires_at = c.get("expires_at")?;
    Ok(AuthCode {
        user_id: uuid("auth_codes.user_id", &user_id)?,
        scopes: scopes("auth_codes.scopes", scope_bits)?,
        code_challenge_method: opt_stored(
            "auth_codes.code_challenge_method",
            code_challenge_method.as_deref(),
        )?,
        sid: uuid("auth_codes.sid", &sid)?,
        amr: stored("auth_codes.amr", &amr)?,
        code_hash,
        client_id,
        redirect_uri,
        nonce,
        code_challenge,
        auth_time,
        acr,
        auth_req_id,
        expires_at,
    })
}

/// An access token: `token_hash, client_id, user_id, scopes, sid, code_hash, expires_at`.
fn read_access_token(c: &mut Columns<'_>) -> Result<AccessToken> {
    let token_hash = c.get("token_hash")?;
    let client_id = c.get("client_id")?;
    let user_id: String = c.get("user_id")?;
    let scope_bits: i64 = c.get("scopes")?;
    let sid: String = c.get("sid")?;
    let code_hash = c.get("code_hash")?;
    let expires_at = c.get("expires_at")?;
    Ok(AccessToken {
        user_id: uuid("access_tokens.user_id", &user_id)?,
        scopes: scopes("access_tokens.scopes", scope_bits)?,
        sid: uuid("access_tokens.sid", &sid)?,
        token_hash,
        client_id,
        code_hash,
        expires_at,
    })
}

/// An access token and its user: the token's columns, then [`user_columns`] each named
/// with the prefix `u_`.
pub(super) fn access_token_with_user(row: &PgRow) -> Result<(AccessToken, User)> {
    let token = read_access_token(&mut Columns::new(row))?;
    let user = read_user(&mut Columns { row, prefix: "u_" })?;
    Ok((token, user))
}

/// A merchant API token ([`merchant_token_columns`]).
pub(super) fn merchant_token(row: &PgRow) -> Result<MerchantToken> {
    let mut c = Columns::new(row);
    Ok(MerchantToken {
        token_hash: c.get("token_hash")?,
        client_id: c.get("client_id")?,
        expires_at: c.get("expires_at")?,
    })
}

/// A webhook registration ([`webhook_columns`]).
pub(super) fn webhook(row: &PgRow) -> Result<Webhook> {
    let mut c = Columns::new(row);
    let id: String = c.get("id")?;
    let client_id = c.get("client_id")?;
    let url = c.get("url")?;
    let events: String = c.get("events")?;
    let secret = c.get("secret")?;
    let created_at = c.get("created_at")?;
    let names: Vec<String> = json("webhooks.events", &events)?;
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
        id: uuid("webhooks.id", &id)?,
        client_id,
        url,
        events,
        secret,
        created_at,
    })
}

/// A consent ([`consent_columns`]).
pub(super) fn consent(row: &PgRow) -> Result<Consent> {
    let mut c = Columns::new(row);
    let user_id: String = c.get("user_id")?;
    let client_id = c.get("client_id")?;
    let scope_bits: i64 = c.get("scopes")?;
    let granted_at = c.get("granted_at")?;
    Ok(Consent {
        user_id: uuid("consents.user_id", &user_id)?,
        scopes: scopes("consents.scopes", scope_bits)?,
        client_id,
        granted_at,
    })
}

/// A remembered browser's person ([`user_columns`]) followed by `consent_scopes,
/// consent_granted_at`: their consent for `client_id`, if any.
pub(super) fn remembered(row: &PgRow, client_id: &str) -> Result<(User, Option<Consent>)> {
    let mut c = Columns::new(row);
    let user = read_user(&mut c)?;
    let consent_scopes: Option<i64> = c.get("consent_scopes")?;
    let consent_granted_at: Option<Timestamp> = c.get("consent_granted_at")?;
    let consent = match (consent_scopes, consent_granted_at) {
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

/// A remembered browser ([`browser_columns`]).
pub(super) fn browser(row: &PgRow) -> Result<RememberedBrowser> {
    let mut c = Columns::new(row);
    let id: String = c.get("id")?;
    let user_id: String = c.get("user_id")?;
    let label = c.get("label")?;
    let created_at = c.get("created_at")?;
    let last_used_at = c.get("last_used_at")?;
    let expires_at = c.get("expires_at")?;
    Ok(RememberedBrowser {
        id: uuid("browsers.id", &id)?,
        user_id: uuid("browsers.user_id", &user_id)?,
        label,
        created_at,
        last_used_at,
        expires_at,
    })
}

/// A device ([`device_columns`]).
pub(super) fn device(row: &PgRow) -> Result<Device> {
    let mut c = Columns::new(row);
    let id: String = c.get("id")?;
    let user_id: String = c.get("user_id")?;
    let name = c.get("name")?;
    let created_at = c.get("created_at")?;
    let last_used_at = c.get("last_used_at")?;
    let expires_at = c.get("expires_at")?;
    Ok(Device {
        id: uuid("devices.id", &id)?,
        user_id: uuid("devices.user_id", &user_id)?,
        name,
        created_at,
        last_used_at,
        expires_at,
    })
}

/// An audit entry ([`audit_columns`]); the user id is a UUID or NULL.
pub(super) fn audit_entry(row: &PgRow) -> Result<AuditEntry> {
    let mut c = Columns::new(row);
    let id = c.get("id")?;
    let at = c.get("at")?;
    let event = c.get("event")?;
    let user_id: Option<String> = c.get("user_id")?;
    Ok(AuditEntry {
        id,
        at,
        event,
        user_id: opt_uuid("audit_log.user_id", user_id.as_deref())?,
        client_id: c.get("client_id")?,
        detail: c.get("detail")?,
    })
}

/// A signing key ([`signing_key_columns`]); every column maps as stored.
pub(super) fn signing_key(row: &PgRow) -> Result<SigningKey> {
    let mut c = Columns::new(row);
    Ok(SigningKey {
        kid: c.get("kid")?,
        alg: c.get("alg")?,
        private_der: c.get("private_der")?,
        public_jwk: c.get("public_jwk")?,
        created_at: c.get("created_at")?,
        active_from: c.get("active_from")?,
        retired_at: c.get("retired_at")?,
    })
}

/// A partner ([`partner_columns`]) followed by `msns`: its MSNs, sorted.
pub(super) fn partner_with_msns(row: &PgRow) -> Result<Partner> {
    let mut c = Columns::new(row);
    Ok(Partner {
        id: c.get("id")?,
        secret_hash: c.get("secret_hash")?,
        name: c.get("name")?,
        created_at: c.get("created_at")?,
        msns: c.get("msns")?,
    })
}

/// A partner's access token ([`partner_token_columns`]).
pub(super) fn partner_token(row: &PgRow) -> Result<PartnerToken> {
    let mut c = Columns::new(row);
    Ok(PartnerToken {
        token_hash: c.get("token_hash")?,
        partner_id: c.get("partner_id")?,
        expires_at: c.get("expires_at")?,
    })
}

/// A delivery of the outbox ([`delivery_columns`]).
pub(super) fn delivery(row: &PgRow) -> Result<Delivery> {
    let mut c = Columns::new(row);
    let id: String = c.get("id")?;
    let auth: String = c.get("auth")?;
    let secret: Option<String> = c.get("secret")?;
    let attempts: i64 = c.get("attempts")?;
    Ok(Delivery {
        id: uuid("deliveries.id", &id)?,
        url: c.get("url")?,
        content_type: c.get("content_type")?,
        body: c.get("body")?,
        auth: read_delivery_auth(auth, secret)?,
        attempts: count("deliveries.attempts", attempts)?,
        due_at: c.get("due_at")?,
        created_at: c.get("created_at")?,
    })
}
