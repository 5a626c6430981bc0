//! The SQLite store: one file in WAL mode, a single writer connection (SQLite allows one
//! writer at a time, so queueing in the pool beats busy-waiting in the database) and a
//! pool of readers.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use nod_core::grant::{AccessToken, AuthCode, Redemption};
use nod_core::login::{Amr, Ciba, Consent, Device, Kind, LoginRequest, RememberedBrowser, Status};
use nod_core::sales_unit::SalesUnit;
use nod_core::scope::ScopeSet;
use nod_core::user::User;
use nod_core::{ErrorCode, StoredEnum, Timestamp};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

use crate::{
    AuditEvent, Completion, Confirmation, ConsentStore, DeviceStore, GrantStore, KeyStore,
    LoginRequestStore, PhoneDispatch, Result, SalesUnitStore, SigningKey, Store, StoreError,
    UserStore,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database a `sqlite://path` URL names.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(Box::new(e)))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .statement_cache_capacity(200);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        let readers = std::thread::available_parallelism().map_or(4, |n| n.get().max(2) * 2) as u32;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(Self { writer, reader })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Migration(Box::new(e)))
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// Maps database errors: uniqueness violations become `Conflict`.
fn db_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => unavailable(e),
        _ => StoreError::Other(Box::new(e)),
    }
}

fn uuid(row: &SqliteRow, column: &'static str) -> Result<Uuid> {
    let text: String = row.try_get(column).map_err(db_error)?;
    Uuid::parse_str(&text).map_err(|e| corrupt(column, e))
}

fn opt_uuid(row: &SqliteRow, column: &'static str) -> Result<Option<Uuid>> {
    let text: Option<String> = row.try_get(column).map_err(db_error)?;
    text.map(|t| Uuid::parse_str(&t).map_err(|e| corrupt(column, e)))
        .transpose()
}

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(db_error)
}

fn corrupt(column: &'static str, e: impl Into<crate::BoxError>) -> StoreError {
    StoreError::Corrupt {
        column,
        source: e.into(),
    }
}

/// A stored name that is none of the enum's values.
#[derive(Debug, thiserror::Error)]
#[error("unknown value '{0}'")]
struct UnknownName(String);

/// A stored enum; an unknown name is an error, never a default.
fn stored<T: StoredEnum>(row: &SqliteRow, column: &'static str) -> Result<T> {
    let name: String = get(row, column)?;
    T::from_stored(&name).ok_or_else(|| corrupt(column, UnknownName(name)))
}

fn opt_stored<T: StoredEnum>(row: &SqliteRow, column: &'static str) -> Result<Option<T>> {
    let name: Option<String> = get(row, column)?;
    name.map(|name| T::from_stored(&name).ok_or_else(|| corrupt(column, UnknownName(name))))
        .transpose()
}

const SALES_UNIT_COLUMNS: &str = "client_id, secret_hash, name, redirect_uris, auth_method, msn, allow_nin, ciba_mode, ciba_notification_endpoint, webhook_url, consent_texts, created_at";

fn sales_unit(row: &SqliteRow) -> Result<SalesUnit> {
    let uris: String = get(row, "redirect_uris")?;
    Ok(SalesUnit {
        client_id: get(row, "client_id")?,
        secret_hash: get(row, "secret_hash")?,
        name: get(row, "name")?,
        redirect_uris: serde_json::from_str(&uris).map_err(|e| corrupt("redirect_uris", e))?,
        auth_method: stored(row, "auth_method")?,
        msn: get(row, "msn")?,
        allow_nin: get(row, "allow_nin")?,
        ciba_mode: stored(row, "ciba_mode")?,
        ciba_notification_endpoint: get(row, "ciba_notification_endpoint")?,
        webhook_url: get(row, "webhook_url")?,
        consent_texts: get::<Option<String>>(row, "consent_texts")?
            .map(|t| serde_json::from_str(&t).map_err(|e| corrupt("consent_texts", e)))
            .transpose()?,
        created_at: get(row, "created_at")?,
    })
}

const USER_COLUMNS: &str = "id, phone_number, given_name, family_name, email, birthdate, nin, addresses, active, created_at";

fn user_at(row: &SqliteRow, prefix: &str) -> Result<User> {
    let col = |name: &str| format!("{prefix}{name}");
    let addresses: String = get(row, &col("addresses"))?;
    Ok(User {
        id: Uuid::parse_str(&get::<String>(row, &col("id"))?).map_err(|e| corrupt("id", e))?,
        phone_number: get(row, &col("phone_number"))?,
        given_name: get(row, &col("given_name"))?,
        family_name: get(row, &col("family_name"))?,
        email: get(row, &col("email"))?,
        birthdate: get(row, &col("birthdate"))?,
        nin: get(row, &col("nin"))?,
        addresses: serde_json::from_str(&addresses).map_err(|e| corrupt("addresses", e))?,
        active: get(row, &col("active"))?,
        created_at: get(row, &col("created_at"))?,
    })
}

fn user(row: &SqliteRow) -> Result<User> {
    user_at(row, "")
}

fn login_request(row: &SqliteRow) -> Result<LoginRequest> {
    let choices: Option<String> = get(row, "choices")?;
    let choices = choices.and_then(|c| {
        let mut it = c.split(',').filter_map(|n| n.parse::<u8>().ok());
        Some([it.next()?, it.next()?, it.next()?])
    });
    let auth_req_id: Option<String> = get(row, "auth_req_id")?;
    let ciba = match auth_req_id {
        Some(auth_req_id) => Some(Ciba {
            auth_req_id,
            binding_message: get(row, "binding_message")?,
            notification_token: get(row, "notification_token")?,
            last_polled_at: get(row, "last_polled_at")?,
        }),
        None => None,
    };
    Ok(LoginRequest {
        id: uuid(row, "id")?,
        kind: stored(row, "kind")?,
        ciba,
        delegated_answers: get::<Option<String>>(row, "delegated_answers")?
            .map(|a| serde_json::from_str(&a).map_err(|e| corrupt("delegated_answers", e)))
            .transpose()?,
        client_id: get(row, "client_id")?,
        redirect_uri: get(row, "redirect_uri")?,
        scopes: ScopeSet::from_bits(get(row, "scopes")?),
        state: get(row, "state")?,
        nonce: get(row, "nonce")?,
        code_challenge: get(row, "code_challenge")?,
        code_challenge_method: opt_stored(row, "code_challenge_method")?,
        flow: stored(row, "flow")?,
        app_callback_uri: get(row, "app_callback_uri")?,
        final_redirect_is_app: get(row, "final_redirect_is_app")?,
        acr_app_auth: get(row, "acr_app_auth")?,
        prompt: stored(row, "prompt")?,
        response_mode: stored(row, "response_mode")?,
        browser_binding: get(row, "browser_binding")?,
        csrf_token: get(row, "csrf_token")?,
        status: stored(row, "status")?,
        user_id: opt_uuid(row, "user_id")?,
        challenge: get::<Option<i64>>(row, "challenge")?.and_then(|c| u8::try_from(c).ok()),
        choices,
        remember_browser: get(row, "remember_browser")?,
        amr: opt_stored(row, "amr")?,
        error: opt_stored(row, "error")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        auth_time: get(row, "auth_time")?,
    })
}

fn auth_code(row: &SqliteRow) -> Result<AuthCode> {
    Ok(AuthCode {
        code_hash: get(row, "code_hash")?,
        client_id: get(row, "client_id")?,
        user_id: uuid(row, "user_id")?,
        redirect_uri: get(row, "redirect_uri")?,
        scopes: ScopeSet::from_bits(get(row, "scopes")?),
        nonce: get(row, "nonce")?,
        code_challenge: get(row, "code_challenge")?,
        code_challenge_method: opt_stored(row, "code_challenge_method")?,
        sid: uuid(row, "sid")?,
        auth_time: get(row, "auth_time")?,
        amr: stored(row, "amr")?,
        acr: get(row, "acr")?,
        auth_req_id: get(row, "auth_req_id")?,
        expires_at: get(row, "expires_at")?,
    })
}

fn browser(row: &SqliteRow) -> Result<RememberedBrowser> {
    Ok(RememberedBrowser {
        id: uuid(row, "id")?,
        user_id: uuid(row, "user_id")?,
        label: get(row, "label")?,
        created_at: get(row, "created_at")?,
        last_used_at: get(row, "last_used_at")?,
        expires_at: get(row, "expires_at")?,
    })
}

fn consent(row: &SqliteRow) -> Result<Consent> {
    Ok(Consent {
        user_id: uuid(row, "user_id")?,
        client_id: get(row, "client_id")?,
        scopes: ScopeSet::from_bits(get(row, "scopes")?),
        granted_at: get(row, "granted_at")?,
    })
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(Box::new(e)))
}

#[async_trait]
impl SalesUnitStore for SqliteStore {
    async fn create_sales_unit(&self, u: &SalesUnit) -> Result<()> {
        sqlx::query(
            "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, msn, allow_nin, ciba_mode, ciba_notification_endpoint, webhook_url, created_at, consent_texts)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&u.client_id)
        .bind(&u.secret_hash)
        .bind(&u.name)
        .bind(json(&u.redirect_uris)?)
        .bind(u.auth_method.as_str())
        .bind(&u.msn)
        .bind(u.allow_nin)
        .bind(u.ciba_mode.as_str())
        .bind(&u.ciba_notification_endpoint)
        .bind(&u.webhook_url)
        .bind(u.created_at)
        .bind(u.consent_texts.as_ref().map(json).transpose()?)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_sales_unit(&self, client_id: &str) -> Result<Option<SalesUnit>> {
        let sql = format!("SELECT {SALES_UNIT_COLUMNS} FROM sales_units WHERE client_id = $1");
        sqlx::query(&sql)
            .bind(client_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .as_ref()
            .map(sales_unit)
            .transpose()
    }

    async fn list_sales_units(&self) -> Result<Vec<SalesUnit>> {
        let sql = format!("SELECT {SALES_UNIT_COLUMNS} FROM sales_units ORDER BY client_id");
        sqlx::query(&sql)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?
            .iter()
            .map(sales_unit)
            .collect()
    }

    async fn update_sales_unit(&self, u: &SalesUnit) -> Result<()> {
        let done = sqlx::query(
            "UPDATE sales_units SET secret_hash = $2, name = $3, redirect_uris = $4, auth_method = $5, msn = $6, allow_nin = $7, ciba_mode = $8, ciba_notification_endpoint = $9, webhook_url = $10, consent_texts = $11
             WHERE client_id = $1",
        )
        .bind(&u.client_id)
        .bind(&u.secret_hash)
        .bind(&u.name)
        .bind(json(&u.redirect_uris)?)
        .bind(u.auth_method.as_str())
        .bind(&u.msn)
        .bind(u.allow_nin)
        .bind(u.ciba_mode.as_str())
        .bind(&u.ciba_notification_endpoint)
        .bind(&u.webhook_url)
        .bind(u.consent_texts.as_ref().map(json).transpose()?)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_sales_unit(&self, client_id: &str) -> Result<()> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let done = sqlx::query("DELETE FROM sales_units WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for table in ["consents", "auth_codes", "access_tokens", "login_requests"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE client_id = $1"))
                .bind(client_id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }
}

async fn insert_user<'e, E>(executor: E, u: &User, or_ignore: bool) -> Result<u64>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let verb = if or_ignore {
        "INSERT OR IGNORE"
    } else {
        "INSERT"
    };
    let sql = format!(
        "{verb} INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    let done = sqlx::query(&sql)
        .bind(u.id.to_string())
        .bind(&u.phone_number)
        .bind(&u.given_name)
        .bind(&u.family_name)
        .bind(&u.email)
        .bind(&u.birthdate)
        .bind(&u.nin)
        .bind(json(&u.addresses)?)
        .bind(u.active)
        .bind(u.created_at)
        .execute(executor)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, u: &User) -> Result<()> {
        insert_user(&self.writer, u, false).await.map(|_| ())
    }

    async fn import_users(&self, users: &[User]) -> Result<usize> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let mut created = 0;
        for u in users {
            created += insert_user(&mut *tx, u, true).await? as usize;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn get_user(&self, id: Uuid) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .as_ref()
            .map(user)
            .transpose()
    }

    async fn get_user_by_phone(&self, phone_number: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE phone_number = $1");
        sqlx::query(&sql)
            .bind(phone_number)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .as_ref()
            .map(user)
            .transpose()
    }

    async fn list_users(&self, limit: i64, offset: i64) -> Result<Vec<User>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users ORDER BY phone_number LIMIT $1 OFFSET $2");
        sqlx::query(&sql)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?
            .iter()
            .map(user)
            .collect()
    }

    async fn delete_user(&self, id: Uuid) -> Result<()> {
        let id = id.to_string();
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for table in [
            "consents",
            "browsers",
            "devices",
            "activation_codes",
            "auth_codes",
            "access_tokens",
            "login_requests",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn create_activation_code(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO activation_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(code_hash)
        .bind(user_id.to_string())
        .bind(expires_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn consume_activation_code(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query("DELETE FROM activation_codes WHERE code_hash = $1 AND user_id = $2 AND expires_at > $3")
            .bind(code_hash)
            .bind(user_id.to_string())
            .bind(now)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }
}

/// The columns of a new login request, in the order [`bind_login_request`] binds them.
const LOGIN_INSERT_COLUMNS: &str = "id, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method, flow, app_callback_uri, final_redirect_is_app, acr_app_auth, prompt, response_mode, browser_binding, csrf_token, status, user_id, challenge, choices, remember_browser, amr, error, created_at, expires_at, auth_time, kind, auth_req_id, binding_message, notification_token, last_polled_at, delegated_answers, phone_hash";
const LOGIN_INSERT_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33";

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

fn bind_login_request<'q>(
    query: SqliteQuery<'q>,
    r: &'q LoginRequest,
    phone_hash: Option<&'q [u8]>,
) -> Result<SqliteQuery<'q>> {
    Ok(query
        .bind(r.id.to_string())
        .bind(&r.client_id)
        .bind(&r.redirect_uri)
        .bind(r.scopes.bits())
        .bind(&r.state)
        .bind(&r.nonce)
        .bind(&r.code_challenge)
        .bind(r.code_challenge_method.map(|m| m.as_str()))
        .bind(r.flow.as_str())
        .bind(&r.app_callback_uri)
        .bind(r.final_redirect_is_app)
        .bind(r.acr_app_auth)
        .bind(r.prompt.as_str())
        .bind(r.response_mode.as_str())
        .bind(&r.browser_binding)
        .bind(&r.csrf_token)
        .bind(r.status.as_str())
        .bind(r.user_id.map(|u| u.to_string()))
        .bind(r.challenge.map(i64::from))
        .bind(r.choices.map(choices_text))
        .bind(r.remember_browser)
        .bind(r.amr.map(|a| a.as_str()))
        .bind(r.error.map(|e| e.as_str()))
        .bind(r.created_at)
        .bind(r.expires_at)
        .bind(r.auth_time)
        .bind(r.kind.as_str())
        .bind(r.ciba.as_ref().map(|c| c.auth_req_id.as_str()))
        .bind(r.ciba.as_ref().and_then(|c| c.binding_message.as_deref()))
        .bind(
            r.ciba
                .as_ref()
                .and_then(|c| c.notification_token.as_deref()),
        )
        .bind(r.ciba.as_ref().and_then(|c| c.last_polled_at))
        .bind(r.delegated_answers.as_deref().map(json).transpose()?)
        .bind(phone_hash))
}

fn choices_text(c: [u8; 3]) -> String {
    format!("{},{},{}", c[0], c[1], c[2])
}

/// `status IN ($n, …)` for the given states, numbering parameters from `first`.
fn status_in(from: &[Status], first: usize) -> String {
    let params: Vec<String> = (first..first + from.len())
        .map(|i| format!("${i}"))
        .collect();
    format!("status IN ({})", params.join(", "))
}

async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    events: &[AuditEvent<'_>],
) -> Result<()> {
    for e in events {
        sqlx::query("INSERT INTO audit_log (at, event, user_id, client_id, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(e.at)
            .bind(e.event)
            .bind(e.user_id.map(|u| u.to_string()))
            .bind(e.client_id)
            .bind(e.detail)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

async fn upsert_consent<'e, E>(
    executor: E,
    user_id: Uuid,
    client_id: &str,
    scopes: ScopeSet,
    now: Timestamp,
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = consents.scopes | excluded.scopes, granted_at = excluded.granted_at",
    )
    .bind(user_id.to_string())
    .bind(client_id)
    .bind(scopes.bits())
    .bind(now)
    .execute(executor)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl LoginRequestStore for SqliteStore {
    async fn create_login_request(&self, r: &LoginRequest) -> Result<()> {
        let sql = format!(
            "INSERT INTO login_requests ({LOGIN_INSERT_COLUMNS}) VALUES ({LOGIN_INSERT_VALUES})"
        );
        bind_login_request(sqlx::query(&sql), r, None)?
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn create_ciba_request(
        &self,
        r: &LoginRequest,
        phone_hash: &[u8],
        limit: i64,
        now: Timestamp,
    ) -> Result<bool> {
        // One statement: the count and the insert cannot be split by another writer.
        let sql = format!(
            "INSERT INTO login_requests ({LOGIN_INSERT_COLUMNS}) SELECT {LOGIN_INSERT_VALUES}
             WHERE (SELECT COUNT(*) FROM login_requests WHERE phone_hash = $33 AND status = $34 AND expires_at > $35) < $36"
        );
        let done = bind_login_request(sqlx::query(&sql), r, Some(phone_hash))?
            .bind(Status::Waiting.as_str())
            .bind(now)
            .bind(limit)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_login_request(&self, id: Uuid) -> Result<Option<LoginRequest>> {
        sqlx::query("SELECT * FROM login_requests WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .as_ref()
            .map(login_request)
            .transpose()
    }

    async fn send_login_request(&self, id: Uuid, d: &PhoneDispatch<'_>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE login_requests SET status = $9, phone_hash = $7, user_id = $2, challenge = $3, choices = $4, remember_browser = $5
             WHERE id = $1 AND status = $10 AND expires_at > $6
               AND (SELECT COUNT(*) FROM login_requests WHERE phone_hash = $7 AND status = $9 AND expires_at > $6) < $8",
        )
        .bind(id.to_string())
        .bind(d.user_id.map(|u| u.to_string()))
        .bind(i64::from(d.challenge))
        .bind(choices_text(d.choices))
        .bind(d.remember_browser)
        .bind(d.now)
        .bind(d.phone_hash)
        .bind(d.limit)
        .bind(Status::Waiting.as_str())
        .bind(Status::New.as_str())
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn confirm_login_request(
        &self,
        id: Uuid,
        c: &Confirmation<'_>,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let (from, user_check) = match c.amr {
            Amr::App => (Status::Waiting, "AND user_id = $2"),
            Amr::RememberedBrowser => (Status::New, ""),
        };
        let answers = c.delegated_answers.map(json).transpose()?;
        let sql = format!(
            "UPDATE login_requests SET status = $7, user_id = $2, amr = $3, remember_browser = $4, auth_time = $5, expires_at = $6,
                    delegated_answers = COALESCE($9, delegated_answers)
             WHERE id = $1 AND status = $8 AND expires_at > $5 {user_check}
             RETURNING client_id"
        );
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let client_id: Option<String> = sqlx::query_scalar(&sql)
            .bind(id.to_string())
            .bind(c.user_id.to_string())
            .bind(c.amr.as_str())
            .bind(c.remember_browser)
            .bind(c.now)
            .bind(c.expires_at)
            .bind(Status::Confirmed.as_str())
            .bind(from.as_str())
            .bind(answers)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        let Some(client_id) = client_id else {
            return Ok(false);
        };
        if let Some(scopes) = c.consent {
            upsert_consent(&mut *tx, c.user_id, &client_id, scopes, c.now).await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn fail_login_request(
        &self,
        id: Uuid,
        from: &[Status],
        user_id: Option<Uuid>,
        error: ErrorCode,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE login_requests SET status = $5, error = $2
             WHERE id = $1 AND expires_at > $4 AND ($3 IS NULL OR user_id = $3) AND {}",
            status_in(from, 6)
        );
        let mut query = sqlx::query(&sql)
            .bind(id.to_string())
            .bind(error.as_str())
            .bind(user_id.map(|u| u.to_string()))
            .bind(now)
            .bind(Status::Failed.as_str());
        for status in from {
            query = query.bind(status.as_str());
        }
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let done = query.execute(&mut *tx).await.map_err(db_error)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn complete_login_request(
        &self,
        id: Uuid,
        completion: &Completion<'_>,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let c = completion.code;
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let done =
            sqlx::query("UPDATE login_requests SET status = $2 WHERE id = $1 AND status = $3")
                .bind(id.to_string())
                .bind(Status::Done.as_str())
                .bind(Status::Confirmed.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge, code_challenge_method, sid, auth_time, amr, acr, auth_req_id, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&c.code_hash)
        .bind(&c.client_id)
        .bind(c.user_id.to_string())
        .bind(&c.redirect_uri)
        .bind(c.scopes.bits())
        .bind(&c.nonce)
        .bind(&c.code_challenge)
        .bind(c.code_challenge_method.map(|m| m.as_str()))
        .bind(c.sid.to_string())
        .bind(c.auth_time)
        .bind(c.amr.as_str())
        .bind(&c.acr)
        .bind(&c.auth_req_id)
        .bind(c.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some((scopes, now)) = completion.consent {
            upsert_consent(&mut *tx, c.user_id, &c.client_id, scopes, now).await?;
        }
        if let Some((b, token_hash)) = completion.browser {
            insert_browser(&mut *tx, b, token_hash).await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn set_login_ticket(&self, id: Uuid, ticket_hash: &[u8], now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE login_requests SET ticket_hash = $2 WHERE id = $1 AND status = $4 AND expires_at > $3",
        )
        .bind(id.to_string())
        .bind(ticket_hash)
        .bind(now)
        .bind(Status::New.as_str())
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn open_login_ticket(
        &self,
        ticket_hash: &[u8],
        user_id: Uuid,
        now: Timestamp,
    ) -> Result<Option<LoginRequest>> {
        sqlx::query(
            "UPDATE login_requests SET status = $4, user_id = $2, ticket_hash = NULL
             WHERE ticket_hash = $1 AND status = $5 AND expires_at > $3
             RETURNING *",
        )
        .bind(ticket_hash)
        .bind(user_id.to_string())
        .bind(now)
        .bind(Status::Waiting.as_str())
        .bind(Status::New.as_str())
        .fetch_optional(&self.writer)
        .await
        .map_err(db_error)?
        .as_ref()
        .map(login_request)
        .transpose()
    }

    async fn set_resume_token(&self, id: Uuid, token_hash: &[u8]) -> Result<bool> {
        let done =
            sqlx::query("UPDATE login_requests SET resume_hash = $2 WHERE id = $1 AND status = $3")
                .bind(id.to_string())
                .bind(token_hash)
                .bind(Status::Confirmed.as_str())
                .execute(&self.writer)
                .await
                .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn take_resume_token(&self, id: Uuid, token_hash: &[u8]) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE login_requests SET resume_hash = NULL WHERE id = $1 AND resume_hash = $2",
        )
        .bind(id.to_string())
        .bind(token_hash)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_ciba_request(
        &self,
        auth_req_id: &str,
        client_id: &str,
    ) -> Result<Option<LoginRequest>> {
        sqlx::query("SELECT * FROM login_requests WHERE auth_req_id = $1 AND client_id = $2")
            .bind(auth_req_id)
            .bind(client_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .as_ref()
            .map(login_request)
            .transpose()
    }

    async fn record_poll(&self, id: Uuid, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE login_requests SET last_polled_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(now)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn finish_ciba_request(&self, id: Uuid, audit: &[AuditEvent<'_>]) -> Result<bool> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let done = sqlx::query(
            "UPDATE login_requests SET status = $2 WHERE id = $1 AND status = $3 AND kind = $4",
        )
        .bind(id.to_string())
        .bind(Status::Done.as_str())
        .bind(Status::Confirmed.as_str())
        .bind(Kind::MerchantInitiated.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn list_pending_login_requests(
        &self,
        user_id: Uuid,
        now: Timestamp,
    ) -> Result<Vec<LoginRequest>> {
        sqlx::query(
            "SELECT * FROM login_requests WHERE user_id = $1 AND status = $3 AND expires_at > $2 ORDER BY created_at",
        )
        .bind(user_id.to_string())
        .bind(now)
        .bind(Status::Waiting.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?
        .iter()
        .map(login_request)
        .collect()
    }
}

#[async_trait]
impl GrantStore for SqliteStore {
    async fn redeem_code(
        &self,
        code_hash: &[u8],
        client_id: &str,
        now: Timestamp,
    ) -> Result<Redemption> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let row = sqlx::query(
            "UPDATE auth_codes SET redeemed_at = $3
             WHERE code_hash = $1 AND client_id = $2 AND redeemed_at IS NULL AND expires_at > $3
             RETURNING *",
        )
        .bind(code_hash)
        .bind(client_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let result = match row {
            Some(row) => Redemption::Redeemed(Box::new(auth_code(&row)?)),
            None => {
                let replayed = sqlx::query(
                    "SELECT 1 FROM auth_codes WHERE code_hash = $1 AND client_id = $2 AND redeemed_at IS NOT NULL",
                )
                .bind(code_hash)
                .bind(client_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?
                .is_some();
                if replayed {
                    sqlx::query("DELETE FROM access_tokens WHERE code_hash = $1")
                        .bind(code_hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                    Redemption::Replayed
                } else {
                    Redemption::Unknown
                }
            }
        };
        tx.commit().await.map_err(db_error)?;
        Ok(result)
    }

    async fn insert_access_token(&self, t: &AccessToken) -> Result<()> {
        sqlx::query(
            "INSERT INTO access_tokens (token_hash, client_id, user_id, scopes, sid, code_hash, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&t.token_hash)
        .bind(&t.client_id)
        .bind(t.user_id.to_string())
        .bind(t.scopes.bits())
        .bind(t.sid.to_string())
        .bind(&t.code_hash)
        .bind(t.expires_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_access_token_with_user(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<(AccessToken, User)>> {
        let row = sqlx::query(
            "SELECT t.token_hash, t.client_id, t.user_id, t.scopes, t.sid, t.code_hash, t.expires_at,
                    u.id AS u_id, u.phone_number AS u_phone_number, u.given_name AS u_given_name, u.family_name AS u_family_name,
                    u.email AS u_email, u.birthdate AS u_birthdate, u.nin AS u_nin, u.addresses AS u_addresses,
                    u.active AS u_active, u.created_at AS u_created_at
             FROM access_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        let token = AccessToken {
            token_hash: get(&row, "token_hash")?,
            client_id: get(&row, "client_id")?,
            user_id: uuid(&row, "user_id")?,
            scopes: ScopeSet::from_bits(get(&row, "scopes")?),
            sid: uuid(&row, "sid")?,
            code_hash: get(&row, "code_hash")?,
            expires_at: get(&row, "expires_at")?,
        };
        Ok(Some((token, user_at(&row, "u_")?)))
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        let mut removed = 0;
        // Codes stay a while after expiry so a late replay still revokes its tokens.
        let statements = [
            ("DELETE FROM auth_codes WHERE expires_at < $1", now - 3600),
            ("DELETE FROM access_tokens WHERE expires_at < $1", now),
            (
                "DELETE FROM login_requests WHERE expires_at < $1",
                now - 3600,
            ),
            ("DELETE FROM browsers WHERE expires_at < $1", now),
            ("DELETE FROM activation_codes WHERE expires_at < $1", now),
        ];
        for (sql, before) in statements {
            removed += sqlx::query(sql)
                .bind(before)
                .execute(&self.writer)
                .await
                .map_err(db_error)?
                .rows_affected();
        }
        Ok(removed)
    }
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn get_consent(&self, user_id: Uuid, client_id: &str) -> Result<Option<Consent>> {
        sqlx::query("SELECT * FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id.to_string())
            .bind(client_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .as_ref()
            .map(consent)
            .transpose()
    }

    async fn grant_consent(
        &self,
        user_id: Uuid,
        client_id: &str,
        scopes: ScopeSet,
        now: Timestamp,
    ) -> Result<()> {
        upsert_consent(&self.writer, user_id, client_id, scopes, now).await
    }

    async fn list_consents(&self, user_id: Uuid) -> Result<Vec<Consent>> {
        sqlx::query("SELECT * FROM consents WHERE user_id = $1 ORDER BY client_id")
            .bind(user_id.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?
            .iter()
            .map(consent)
            .collect()
    }

    async fn revoke_consent(&self, user_id: Uuid, client_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id.to_string())
            .bind(client_id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }
}

async fn insert_browser<'e, E>(executor: E, b: &RememberedBrowser, token_hash: &[u8]) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "INSERT INTO browsers (id, token_hash, user_id, label, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(b.id.to_string())
    .bind(token_hash)
    .bind(b.user_id.to_string())
    .bind(&b.label)
    .bind(b.created_at)
    .bind(b.last_used_at)
    .bind(b.expires_at)
    .execute(executor)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn create_browser(&self, b: &RememberedBrowser, token_hash: &[u8]) -> Result<()> {
        insert_browser(&self.writer, b, token_hash).await
    }

    async fn use_browser(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<RememberedBrowser>> {
        sqlx::query(
            "UPDATE browsers SET last_used_at = $2 WHERE token_hash = $1 AND expires_at > $2 RETURNING *",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.writer)
        .await
        .map_err(db_error)?
        .as_ref()
        .map(browser)
        .transpose()
    }

    async fn list_browsers(&self, user_id: Uuid, now: Timestamp) -> Result<Vec<RememberedBrowser>> {
        sqlx::query(
            "SELECT * FROM browsers WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at",
        )
        .bind(user_id.to_string())
        .bind(now)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?
        .iter()
        .map(browser)
        .collect()
    }

    async fn delete_browser(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM browsers WHERE id = $1 AND user_id = $2")
            .bind(id.to_string())
            .bind(user_id.to_string())
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_device(&self, d: &Device, token_hash: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO devices (id, token_hash, user_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(d.id.to_string())
        .bind(token_hash)
        .bind(d.user_id.to_string())
        .bind(d.created_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_device(&self, token_hash: &[u8]) -> Result<Option<Device>> {
        let row = sqlx::query("SELECT id, user_id, created_at FROM devices WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.map(|row| {
            Ok(Device {
                id: uuid(&row, "id")?,
                user_id: uuid(&row, "user_id")?,
                created_at: get(&row, "created_at")?,
            })
        })
        .transpose()
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>> {
        let rows = sqlx::query("SELECT * FROM signing_keys ORDER BY active_from, kid")
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                Ok(SigningKey {
                    kid: get(row, "kid")?,
                    alg: get(row, "alg")?,
                    private_der: get(row, "private_der")?,
                    public_n: get(row, "public_n")?,
                    public_e: get(row, "public_e")?,
                    created_at: get(row, "created_at")?,
                    active_from: get(row, "active_from")?,
                    retired_at: get(row, "retired_at")?,
                })
            })
            .collect()
    }

    async fn insert_signing_key(&self, k: &SigningKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_der, public_n, public_e, created_at, active_from, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&k.kid)
        .bind(&k.alg)
        .bind(&k.private_der)
        .bind(&k.public_n)
        .bind(&k.public_e)
        .bind(k.created_at)
        .bind(k.active_from)
        .bind(k.retired_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn setting_or_init(&self, name: &str, initial: &[u8]) -> Result<Vec<u8>> {
        sqlx::query_scalar(
            "INSERT INTO settings (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = settings.value
             RETURNING value",
        )
        .bind(name)
        .bind(initial)
        .fetch_one(&self.writer)
        .await
        .map_err(db_error)
    }

    async fn record_audit(&self, e: &AuditEvent<'_>) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (at, event, user_id, client_id, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(e.at)
            .bind(e.event)
            .bind(e.user_id.map(|u| u.to_string()))
            .bind(e.client_id)
            .bind(e.detail)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn errors_keep_their_cause() {
        let e = corrupt("status", UnknownName("teleported".into()));
        assert_eq!(e.to_string(), "unreadable stored value in status");
        assert_eq!(
            e.source().map(|s| s.to_string()).as_deref(),
            Some("unknown value 'teleported'")
        );
        let e = db_error(sqlx::Error::PoolTimedOut);
        assert!(matches!(e, StoreError::Unavailable(_)));
        assert_eq!(e.to_string(), "database unavailable");
        assert!(e.source().is_some());
        let e = db_error(sqlx::Error::RowNotFound);
        assert!(matches!(e, StoreError::Other(_)));
        assert!(e.source().is_some());
    }
}
