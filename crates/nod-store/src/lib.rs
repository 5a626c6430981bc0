//! Nod's storage: the store traits the server uses, one per aggregate, combined into
//! [`Store`], and their implementations. No database type leaks out of this crate:
//! callers see only `nod-core` types and [`StoreError`].

use async_trait::async_trait;
use nod_core::ErrorCode;
use nod_core::Timestamp;
use nod_core::grant::{AccessToken, AuthCode, MerchantToken, Redemption};
use nod_core::login::{
    Amr, Consent, DelegatedAnswer, Device, LoginRequest, RememberedBrowser, Status,
};
use nod_core::partner::{Partner, PartnerToken};
use nod_core::sales_unit::SalesUnit;
use nod_core::scope::ScopeSet;
use nod_core::user::User;
use nod_core::webhook::{Webhook, WebhookEvent};
use uuid::Uuid;

mod decode;
mod postgres;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// The cause of a [`StoreError`], boxed so that no database type leaks out of this crate.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Errors of the storage layer. The messages are short; the cause, when there is one, is
/// the [`source`](std::error::Error::source), so a 500 can log the whole chain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (e.g. a phone number that is already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached.
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    /// A stored value cannot be read back as the domain type (an unknown enum name, a bad
    /// UUID, bad JSON, …): the database holds something this version never writes.
    #[error("unreadable stored value in {column}")]
    Corrupt {
        /// `table.column`.
        column: String,
        #[source]
        source: BoxError,
    },
    /// The database URL names no database Nod supports.
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(&'static str),
    /// Bringing the schema up to date failed.
    #[error("migration failed")]
    Migration(#[source] BoxError),
    #[error("storage error")]
    Other(#[source] BoxError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    /// The JWS algorithm it signs with: `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// PKCS#8 DER of the private key.
    pub private_der: Vec<u8>,
    /// The public key as the members of its JWK, a JSON object: `{"kty":"RSA","n","e"}`,
    /// `{"kty":"EC","crv":"P-256","x","y"}` or `{"kty":"OKP","crv":"Ed25519","x"}`.
    pub public_jwk: String,
    pub created_at: Timestamp,
    /// When it starts signing; published in the JWKS from when it is stored.
    pub active_from: Timestamp,
    /// When it leaves the JWKS (a key that another replaced stops signing when that one
    /// starts); `None` while no other key replaced it.
    pub retired_at: Option<Timestamp>,
}

/// An entry of the audit log of security events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent<'a> {
    pub at: Timestamp,
    pub event: &'a str,
    pub user_id: Option<Uuid>,
    pub client_id: Option<&'a str>,
    pub detail: &'a str,
}

/// An audit entry as stored, read back by [`KeyStore::list_audit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub event: String,
    pub user_id: Option<Uuid>,
    pub client_id: Option<String>,
    pub detail: String,
}

#[async_trait]
pub trait SalesUnitStore: Send + Sync {
    /// `Conflict` when the client id is taken.
    async fn create_sales_unit(&self, unit: &SalesUnit) -> Result<()>;
    async fn get_sales_unit(&self, client_id: &str) -> Result<Option<SalesUnit>>;
    async fn list_sales_units(&self) -> Result<Vec<SalesUnit>>;
    /// `NotFound` when there is no such sales unit.
    async fn update_sales_unit(&self, unit: &SalesUnit) -> Result<()>;
    /// Deletes the sales unit and its consents, codes, tokens and login requests.
    /// `NotFound` when there is no such sales unit.
    async fn delete_sales_unit(&self, client_id: &str) -> Result<()>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Conflict` when the phone number is taken.
    async fn create_user(&self, user: &User) -> Result<()>;
    /// Creates all users in one transaction, skipping phone numbers that exist already;
    /// returns how many were created.
    async fn import_users(&self, users: &[User]) -> Result<usize>;
    async fn get_user(&self, id: Uuid) -> Result<Option<User>>;
    async fn get_user_by_phone(&self, phone_number: &str) -> Result<Option<User>>;
    async fn list_users(&self, limit: i64, offset: i64) -> Result<Vec<User>>;
    /// Deletes the user and everything tied to them. `NotFound` when there is no such user.
    async fn delete_user(&self, id: Uuid) -> Result<()>;
    /// Stores a new activation code for the user's next device.
    async fn create_activation_code(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        expires_at: Timestamp,
    ) -> Result<()>;
    /// Spends an activation code of this user; false when it is wrong, used or expired.
    async fn consume_activation_code(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        now: Timestamp,
    ) -> Result<bool>;
}

/// `new` → `waiting`: what the phone form sends to a phone number.
#[derive(Debug, Clone, Copy)]
pub struct PhoneDispatch<'a> {
    /// SHA-256 of the MSISDN, known or not: the per-number limits count these.
    pub phone_hash: &'a [u8],
    pub limits: NumberLimits,
    /// The number's user; `None` for an unknown number (the request simply expires).
    pub user_id: Option<Uuid>,
    pub challenge: u8,
    pub choices: [u8; 3],
    pub remember_browser: bool,
    pub now: Timestamp,
}

/// The limits on the login requests sent to one phone number, checked in the
/// transaction that sends one, so that concurrent requests cannot pass them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberLimits {
    /// Most requests that may wait at once.
    pub pending: i64,
    /// Most requests sent in any `window` seconds, however they ended (cancelled,
    /// rejected, expired). The budget refills at an even pace, one request every
    /// `window / per_window` seconds.
    pub per_window: i64,
    pub window: i64,
}

impl NumberLimits {
    /// The budget as the stores keep it, in milliseconds: one request's share, and how
    /// far ahead of now the budget may be spent before a request is refused.
    pub fn budget_ms(&self) -> (i64, i64) {
        let window = self.window.max(1).saturating_mul(1000);
        let share = window / self.per_window.max(1);
        (share, window - share)
    }
}

/// What a confirmation stores, in one transaction with the status change.
#[derive(Debug, Clone, Copy)]
pub struct Confirmation<'a> {
    pub user_id: Uuid,
    /// `App`: `waiting` → `confirmed`, only for this user. `RememberedBrowser`:
    /// `new` → `confirmed`.
    pub amr: Amr,
    pub remember_browser: bool,
    pub now: Timestamp,
    /// The confirmed request lives until then.
    pub expires_at: Timestamp,
    /// Consent given in the app together with the confirmation: added to the user's
    /// consent for the sales unit.
    pub consent: Option<ScopeSet>,
    /// Answers to the sales unit's consent questions.
    pub delegated_answers: Option<&'a [DelegatedAnswer]>,
    /// When the app finishes the login itself (app to app v2, automatic return, login to
    /// a web page): the code issued at once; the request goes straight to `done`.
    pub code: Option<&'a AuthCode>,
    /// App to app: the hash of the single-use token of the `resume_uri`.
    pub resume_hash: Option<&'a [u8]>,
}

/// What finishing a confirmed login stores, in one transaction with `confirmed` → `done`.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    /// The authorization code issued.
    pub code: &'a AuthCode,
    /// A request that expired by then is not completed.
    pub now: Timestamp,
    /// Consent given on the consent page just now.
    pub consent: Option<(ScopeSet, Timestamp)>,
    /// A browser to remember, and the hash of its cookie token.
    pub browser: Option<(&'a RememberedBrowser, &'a [u8])>,
}

/// Every move of a login request is one conditional, atomic operation: of two moves of
/// the same request at the same moment exactly one succeeds, the other gets `false`. The
/// audit entries given with a move are written in the same transaction.
#[async_trait]
pub trait LoginRequestStore: Send + Sync {
    /// Stores a new browser login request (`new`).
    async fn create_login_request(&self, request: &LoginRequest) -> Result<()>;
    /// Stores a merchant-initiated request (`waiting`) unless the phone number (or
    /// person) is at one of its [`NumberLimits`]; false then.
    async fn create_ciba_request(
        &self,
        request: &LoginRequest,
        phone_hash: &[u8],
        limits: NumberLimits,
        now: Timestamp,
    ) -> Result<bool>;
    async fn get_login_request(&self, id: Uuid) -> Result<Option<LoginRequest>>;
    /// `new` → `waiting`. False when the request is not new or has expired, or when the
    /// number (or, for a known number, the person) is at one of its [`NumberLimits`].
    async fn send_login_request(&self, id: Uuid, dispatch: &PhoneDispatch<'_>) -> Result<bool>;
    /// When the number's request budget (see [`NumberLimits`]) is whole again, in
    /// milliseconds; `None` when nothing was sent to it lately.
    async fn phone_budget(&self, phone_hash: &[u8]) -> Result<Option<i64>>;
    /// → `confirmed` (see [`Confirmation::amr`]), or `done` with [`Confirmation::code`],
    /// with the consent, answers and resume token given.
    async fn confirm_login_request(
        &self,
        id: Uuid,
        confirmation: &Confirmation<'_>,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool>;
    /// One of the `from` states → `failed` with `error`, if not expired. With `user_id`,
    /// only that user's request.
    async fn fail_login_request(
        &self,
        id: Uuid,
        from: &[Status],
        user_id: Option<Uuid>,
        error: ErrorCode,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool>;
    /// Ends a `waiting` request of this user at once, as if its time had run out: its
    /// `expires_at` becomes `now`, so every door sees it expired from then on. False when
    /// it is not waiting, is another user's, or has expired already.
    async fn expire_login_request(
        &self,
        id: Uuid,
        user_id: Uuid,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool>;
    /// `confirmed` → `done` (if not expired), storing the code (and the consent and
    /// browser) at once.
    async fn complete_login_request(
        &self,
        id: Uuid,
        completion: &Completion<'_>,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool>;
    /// Stores the hash of the ticket of the deep link that opens the app (new requests only).
    async fn set_login_ticket(&self, id: Uuid, ticket_hash: &[u8], now: Timestamp) -> Result<bool>;
    /// `new` → `waiting` for the user whose app opened the ticket; the ticket is spent.
    async fn open_login_ticket(
        &self,
        ticket_hash: &[u8],
        user_id: Uuid,
        now: Timestamp,
    ) -> Result<Option<LoginRequest>>;
    /// Spends a resume token; false when it is wrong or already used.
    async fn take_resume_token(&self, id: Uuid, token_hash: &[u8]) -> Result<bool>;
    /// A merchant-initiated request of this client, by its `auth_req_id`.
    async fn get_ciba_request(
        &self,
        auth_req_id: &str,
        client_id: &str,
    ) -> Result<Option<LoginRequest>>;
    /// Notes a poll of a merchant-initiated request.
    async fn record_poll(&self, id: Uuid, now: Timestamp) -> Result<()>;
    /// `confirmed` → `done` for a merchant-initiated request whose tokens are issued now,
    /// storing its access token in the same transaction; false (nothing stored) when it
    /// was redeemed already or has expired.
    async fn finish_ciba_request(
        &self,
        id: Uuid,
        now: Timestamp,
        token: &AccessToken,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool>;
    /// The user's requests the app may act on, oldest first.
    async fn list_pending_login_requests(
        &self,
        user_id: Uuid,
        now: Timestamp,
    ) -> Result<Vec<LoginRequest>>;
}

#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Redeems a code of this client once, atomically. A second redemption revokes the
    /// access tokens issued from the code.
    async fn redeem_code(
        &self,
        code_hash: &[u8],
        client_id: &str,
        now: Timestamp,
    ) -> Result<Redemption> {
        self.redeem_code_issuing(code_hash, client_id, now, &|_| None)
            .await
    }
    /// Redeems a code like [`GrantStore::redeem_code`] and, in the same transaction,
    /// stores the access token `issue` makes of the redeemed code (none when it returns
    /// `None`: the token request did not match the code).
    async fn redeem_code_issuing(
        &self,
        code_hash: &[u8],
        client_id: &str,
        now: Timestamp,
        issue: &(dyn for<'c> Fn(&'c AuthCode) -> Option<AccessToken> + Sync),
    ) -> Result<Redemption>;
    async fn insert_access_token(&self, token: &AccessToken) -> Result<()>;
    /// Revokes an access token of this client (RFC 7009); false when there was none.
    async fn revoke_access_token(&self, token_hash: &[u8], client_id: &str) -> Result<bool>;
    /// A valid access token and its user, in one round trip.
    async fn get_access_token_with_user(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<(AccessToken, User)>>;
    async fn insert_merchant_token(&self, token: &MerchantToken) -> Result<()>;
    /// A merchant API token that has not expired.
    async fn get_merchant_token(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<MerchantToken>>;
    /// Deletes expired codes, tokens (people's, merchants' and partners'), login requests and
    /// browsers; returns rows removed.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64>;
}

#[async_trait]
pub trait ConsentStore: Send + Sync {
    async fn get_consent(&self, user_id: Uuid, client_id: &str) -> Result<Option<Consent>>;
    /// Adds scopes to the user's consent for the sales unit.
    async fn grant_consent(
        &self,
        user_id: Uuid,
        client_id: &str,
        scopes: ScopeSet,
        now: Timestamp,
    ) -> Result<()>;
    async fn list_consents(&self, user_id: Uuid) -> Result<Vec<Consent>>;
    /// False when there was none.
    async fn revoke_consent(&self, user_id: Uuid, client_id: &str) -> Result<bool>;
}

#[async_trait]
pub trait DeviceStore: Send + Sync {
    async fn create_browser(&self, browser: &RememberedBrowser, token_hash: &[u8]) -> Result<()>;
    /// A valid remembered browser; marks it used.
    async fn use_browser(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<RememberedBrowser>>;
    /// The person a valid remembered browser belongs to, with their consent for
    /// `client_id` (read only: nothing is marked used).
    async fn get_remembered(
        &self,
        token_hash: &[u8],
        client_id: &str,
        now: Timestamp,
    ) -> Result<Option<(User, Option<Consent>)>>;
    /// A login a remembered browser finishes at authorize, in one transaction: marks the
    /// browser used and stores the code and the audit entries. False (nothing written)
    /// when the browser is no longer remembered.
    async fn finish_remembered(
        &self,
        token_hash: &[u8],
        code: &AuthCode,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool>;
    async fn list_browsers(&self, user_id: Uuid, now: Timestamp) -> Result<Vec<RememberedBrowser>>;
    async fn delete_browser(&self, user_id: Uuid, id: Uuid) -> Result<bool>;
    async fn create_device(&self, device: &Device, token_hash: &[u8]) -> Result<()>;
    /// The device of a token that has not expired at `now`.
    async fn get_device(&self, token_hash: &[u8], now: Timestamp) -> Result<Option<Device>>;
    /// Marks the device used at `now` and pushes its expiry on to `expires_at`.
    async fn use_device(&self, id: Uuid, now: Timestamp, expires_at: Timestamp) -> Result<()>;
    /// The person's devices that have not expired, newest first.
    async fn list_devices(&self, user_id: Uuid, now: Timestamp) -> Result<Vec<Device>>;
    /// Deletes one of the person's devices (its token stops working) with the audit
    /// entries; false (nothing written) when the person has no such device.
    async fn delete_device(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool>;
}

/// Webhook registrations of sales units (the Webhooks API). Deleting a sales unit deletes
/// its registrations.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a registration unless its sales unit already has `limit` registrations for
    /// one of its events (counted in the same statement); false then.
    async fn create_webhook(&self, webhook: &Webhook, limit: i64) -> Result<bool>;
    /// A sales unit's registrations, oldest first.
    async fn list_webhooks(&self, client_id: &str) -> Result<Vec<Webhook>>;
    /// A sales unit's registrations for one event, oldest first.
    async fn list_webhooks_for_event(
        &self,
        client_id: &str,
        event: WebhookEvent,
    ) -> Result<Vec<Webhook>>;
    /// Deletes a registration of this sales unit; false when it has none with this id.
    async fn delete_webhook(&self, client_id: &str, id: Uuid) -> Result<bool>;
}

/// How a delivery proves it comes from Nod, stored with it so any instance can send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryAuth {
    /// Nothing (the Login API's `CONSENT_REVOKED` webhook).
    None,
    /// `Authorization: Bearer {token}` (CIBA ping notifications).
    Bearer(String),
    /// The Webhooks API's HMAC-SHA256 headers, keyed with the registration's secret.
    Hmac(String),
}

/// A request to a merchant waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: Uuid,
    pub url: String,
    pub content_type: String,
    /// The body exactly as sent.
    pub body: Vec<u8>,
    pub auth: DeliveryAuth,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due.
    pub due_at: Timestamp,
    pub created_at: Timestamp,
}

/// The outbox: requests to merchants, kept until sent so that neither a restart nor the
/// death of an instance loses one, and claimed so that two instances never send one at
/// the same time.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    async fn enqueue_delivery(&self, delivery: &Delivery) -> Result<()>;
    /// Up to `limit` deliveries due at `now` that nobody holds, oldest due first, each
    /// now held until `held_until`. Two claims at once never get the same delivery.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        held_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
    /// Removes a delivery: sent, or given up.
    async fn finish_delivery(&self, id: Uuid) -> Result<()>;
    /// Lets a delivery go for another attempt at `due_at`, `attempts` made so far.
    async fn retry_delivery(&self, id: Uuid, attempts: u32, due_at: Timestamp) -> Result<()>;
}

/// Leases on background work that one instance at a time does.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes the lease `name` for `holder` until `until`, or renews it when `holder` has
    /// it; false when another holder has it past `now`.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool>;
}

/// Messages between the instances of Nod that share a database (the login events that
/// wake event streams on whichever instance they are open).
#[async_trait]
pub trait BroadcastStore: Send + Sync {
    /// Sends each message to every instance listening, this one included.
    async fn broadcast(&self, messages: &[String]) -> Result<()>;
    /// Listens to what the instances broadcast; `None` when the database serves one
    /// instance only (SQLite), so there is nobody else to tell.
    async fn listen(&self) -> Result<Option<Box<dyn Listener>>>;
}

/// Messages broadcast by the instances sharing a database.
#[async_trait]
pub trait Listener: Send {
    /// The next message. After an error, messages may have been missed; listen again.
    async fn recv(&mut self) -> Result<String>;
}

/// The sales units that have one merchant serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsnMatch {
    /// No sales unit has it.
    None,
    /// Exactly one has it.
    One(Box<SalesUnit>),
    /// Several have it (MSNs are not unique in stored data): a partner cannot name any of
    /// them by it.
    Ambiguous,
}

/// Partners (partner keys), their access tokens, and the lookup of a sales unit by MSN.
/// Deleting a partner deletes its MSNs and tokens.
#[async_trait]
pub trait PartnerStore: Send + Sync {
    /// Stores a partner with its MSNs in one transaction. `Conflict` when the id is taken.
    async fn create_partner(&self, partner: &Partner) -> Result<()>;
    /// A partner with its MSNs (sorted).
    async fn get_partner(&self, id: &str) -> Result<Option<Partner>>;
    /// Every partner with its MSNs, by id.
    async fn list_partners(&self) -> Result<Vec<Partner>>;
    /// `NotFound` when there is no such partner.
    async fn delete_partner(&self, id: &str) -> Result<()>;
    async fn insert_partner_token(&self, token: &PartnerToken) -> Result<()>;
    /// A partner token that has not expired. Expired ones are deleted by
    /// [`GrantStore::purge_expired`].
    async fn get_partner_token(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<PartnerToken>>;
    /// The sales unit with this MSN, if exactly one has it.
    async fn sales_unit_by_msn(&self, msn: &str) -> Result<MsnMatch>;
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>>;
    async fn insert_signing_key(&self, key: &SigningKey) -> Result<()>;
    /// Stores `key` and, in the same transaction, sets `retired_at` to `retire_at` on every
    /// other key that has none yet, and writes the audit entry.
    async fn rotate_signing_key(
        &self,
        key: &SigningKey,
        retire_at: Timestamp,
        audit: &AuditEvent<'_>,
    ) -> Result<()>;
    /// The stored value of a setting, storing `initial` first if there is none (so
    /// concurrent first starts agree on one value).
    async fn setting_or_init(&self, name: &str, initial: &[u8]) -> Result<Vec<u8>>;
    async fn record_audit(&self, event: &AuditEvent<'_>) -> Result<()>;
    /// Audit entries, newest first: those at or after `since`, of `user_id`, at most
    /// `limit`.
    async fn list_audit(
        &self,
        since: Option<Timestamp>,
        user_id: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>>;
    /// Deletes audit entries older than `before` (the retention); returns how many.
    async fn purge_audit(&self, before: Timestamp) -> Result<u64>;
}

/// Everything Nod stores.
#[async_trait]
pub trait Store:
    SalesUnitStore
    + UserStore
    + LoginRequestStore
    + GrantStore
    + ConsentStore
    + DeviceStore
    + KeyStore
    + WebhookStore
    + PartnerStore
    + OutboxStore
    + LeaseStore
    + BroadcastStore
{
    /// Whether the database answers.
    async fn ping(&self) -> Result<()>;
    /// How many login requests wait for an answer in the app at `now` (for /metrics).
    async fn count_waiting(&self, now: Timestamp) -> Result<i64>;
    /// The connection pool's state, for /metrics.
    fn pool_stats(&self) -> PoolStats;
}

/// The state of a store's connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open now.
    pub open: u32,
    /// Of those, connections no request is using.
    pub idle: u32,
    /// Most connections the pool opens.
    pub max: u32,
}

/// Opens the store a database URL names (`sqlite://path`, or `postgres://…` /
/// `postgresql://…`) and brings its schema up to date.
pub async fn connect(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(url).await?;
        store.migrate().await?;
        Ok(std::sync::Arc::new(store))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let store = PgStore::connect(url).await?;
        store.migrate().await?;
        Ok(std::sync::Arc::new(store))
    } else {
        Err(StoreError::UnsupportedUrl(
            "unknown database URL scheme; expected sqlite://… or postgres://…",
        ))
    }
}
