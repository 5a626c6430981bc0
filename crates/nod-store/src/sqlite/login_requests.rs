//! Login requests: every move of a request is one conditional statement (compare-and-set
//! on the status) in one transaction with what it stores alongside (consent, code,
//! browser, audit entries), so of two moves at the same moment exactly one wins.

use async_trait::async_trait;
use nod_core::grant::AuthCode;
use nod_core::login::{Amr, Kind, LoginRequest, Status};
use nod_core::{ErrorCode, Timestamp};
use uuid::Uuid;

use super::consents::upsert_consent;
use super::devices::insert_browser;
use super::rows::{LoginRequestRow, choices_text};
use super::{SqliteStore, db_error, insert_audit_event, json};
use crate::{AuditEvent, Completion, Confirmation, LoginRequestStore, PhoneDispatch, Result};

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

/// `status IN ($n, …)` for the given states, numbering parameters from `first`.
fn status_in(from: &[Status], first: usize) -> String {
    let params: Vec<String> = (first..first + from.len())
        .map(|i| format!("${i}"))
        .collect();
    format!("status IN ({})", params.join(", "))
}

pub(super) async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    events: &[AuditEvent<'_>],
) -> Result<()> {
    for e in events {
        insert_audit_event(&mut **tx, e).await?;
    }
    Ok(())
}

pub(super) async fn insert_code<'e, E>(executor: E, c: &AuthCode) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
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
    .execute(executor)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Ends a move's transaction: when the conditional update matched, writes its audit
/// entries and commits; when it did not, drops the transaction (nothing was written).
async fn commit_move(
    mut tx: sqlx::Transaction<'_, sqlx::Sqlite>,
    moved: bool,
    audit: &[AuditEvent<'_>],
) -> Result<bool> {
    if !moved {
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(true)
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
             WHERE (SELECT COUNT(*) FROM login_requests WHERE (phone_hash = $33 OR user_id = $18) AND status = $34 AND expires_at > $35) < $36"
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
        sqlx::query_as::<_, LoginRequestRow>("SELECT * FROM login_requests WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .map(LoginRequest::try_from)
            .transpose()
    }

    async fn send_login_request(&self, id: Uuid, d: &PhoneDispatch<'_>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE login_requests SET status = $9, phone_hash = $7, user_id = $2, challenge = $3, choices = $4, remember_browser = $5
             WHERE id = $1 AND status = $10 AND expires_at > $6
               AND (SELECT COUNT(*) FROM login_requests WHERE (phone_hash = $7 OR user_id = $2) AND status = $9 AND expires_at > $6) < $8",
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
        let to = if c.code.is_some() {
            Status::Done
        } else {
            Status::Confirmed
        };
        let sql = format!(
            "UPDATE login_requests SET status = $7, user_id = $2, amr = $3, remember_browser = $4, auth_time = $5, expires_at = $6,
                    delegated_answers = COALESCE($9, delegated_answers), resume_hash = COALESCE($10, resume_hash)
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
            .bind(to.as_str())
            .bind(from.as_str())
            .bind(answers)
            .bind(c.resume_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        let Some(client_id) = client_id else {
            return Ok(false);
        };
        if let Some(scopes) = c.consent {
            upsert_consent(&mut *tx, c.user_id, &client_id, scopes, c.now).await?;
        }
        if let Some(code) = c.code {
            insert_code(&mut *tx, code).await?;
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
        commit_move(tx, done.rows_affected() == 1, audit).await
    }

    async fn expire_login_request(
        &self,
        id: Uuid,
        user_id: Uuid,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let done = sqlx::query(
            "UPDATE login_requests SET expires_at = $3
             WHERE id = $1 AND user_id = $2 AND status = $4 AND expires_at > $3",
        )
        .bind(id.to_string())
        .bind(user_id.to_string())
        .bind(now)
        .bind(Status::Waiting.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        commit_move(tx, done.rows_affected() == 1, audit).await
    }

    async fn complete_login_request(
        &self,
        id: Uuid,
        completion: &Completion<'_>,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let c = completion.code;
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let done = sqlx::query(
            "UPDATE login_requests SET status = $2 WHERE id = $1 AND status = $3 AND expires_at > $4",
        )
        .bind(id.to_string())
        .bind(Status::Done.as_str())
        .bind(Status::Confirmed.as_str())
        .bind(completion.now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_code(&mut *tx, c).await?;
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
        sqlx::query_as::<_, LoginRequestRow>(
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
        .map(LoginRequest::try_from)
        .transpose()
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
        sqlx::query_as::<_, LoginRequestRow>(
            "SELECT * FROM login_requests WHERE auth_req_id = $1 AND client_id = $2",
        )
        .bind(auth_req_id)
        .bind(client_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?
        .map(LoginRequest::try_from)
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

    async fn finish_ciba_request(
        &self,
        id: Uuid,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let done = sqlx::query(
            "UPDATE login_requests SET status = $2 WHERE id = $1 AND status = $3 AND kind = $4 AND expires_at > $5",
        )
        .bind(id.to_string())
        .bind(Status::Done.as_str())
        .bind(Status::Confirmed.as_str())
        .bind(Kind::MerchantInitiated.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        commit_move(tx, done.rows_affected() == 1, audit).await
    }

    async fn list_pending_login_requests(
        &self,
        user_id: Uuid,
        now: Timestamp,
    ) -> Result<Vec<LoginRequest>> {
        sqlx::query_as::<_, LoginRequestRow>(
            "SELECT * FROM login_requests WHERE user_id = $1 AND status = $3 AND expires_at > $2 ORDER BY created_at",
        )
        .bind(user_id.to_string())
        .bind(now)
        .bind(Status::Waiting.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(LoginRequest::try_from)
        .collect()
    }
}
