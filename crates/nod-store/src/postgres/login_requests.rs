//! Login requests: every move of a request is one conditional statement (compare-and-set
//! on the status) in one transaction with what it stores alongside (consent, code,
//! browser, audit entries), so of two moves at the same moment exactly one wins. The
//! limits on waiting requests are counted under advisory locks of the phone number and
//! the person (see the module documentation of [`super`]).

use async_trait::async_trait;
use nod_core::grant::{AccessToken, AuthCode};
use nod_core::login::{Amr, Kind, LoginRequest, Status};
use nod_core::{ErrorCode, Timestamp};
use sqlx::PgConnection;
use uuid::Uuid;

use super::consents::upsert_consent;
use super::devices::insert_browser;
use super::grants::insert_token;
use super::rows::{self, Columns, choices_text, login_request_columns};
use super::{
    Lock, PgStore, Query, commit, execute, insert_audit, json, lock, query_all, query_opt,
};
use crate::{
    AuditEvent, Completion, Confirmation, LoginRequestStore, NumberLimits, PhoneDispatch, Result,
};

/// The columns of a new login request, in the order [`bind_login_request`] binds them
/// (`$1` to `$33`).
macro_rules! insert_columns {
    () => {
        "id, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method, flow, app_callback_uri, final_redirect_is_app, acr_app_auth, prompt, response_mode, browser_binding, csrf_token, status, user_id, challenge, choices, remember_browser, amr, error, created_at, expires_at, auth_time, kind, auth_req_id, binding_message, notification_token, last_polled_at, delegated_answers, phone_hash"
    };
}
macro_rules! insert_values {
    () => {
        "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33"
    };
}

/// Spends one request's share (`$share`, milliseconds) of the phone number's budget
/// (`$hash`) at `$now_ms`, for each row of `$moved` (the statement's move, at most one).
macro_rules! spend_budget {
    ($hash:literal, $now_ms:literal, $share:literal, $moved:literal) => {
        concat!(
            "INSERT INTO phone_budgets (phone_hash, spent_until) SELECT ", $hash, ", ", $now_ms, " + ", $share,
            " FROM ", $moved,
            " ON CONFLICT (phone_hash) DO UPDATE SET spent_until = GREATEST(phone_budgets.spent_until, ", $now_ms, ") + ", $share
        )
    };
}

/// Binds the request's columns as `$1` to `$33` (see [`insert_columns`]).
fn bind_login_request<'q>(
    sql: &'q str,
    r: &'q LoginRequest,
    phone_hash: Option<&'q [u8]>,
) -> Result<Query<'q>> {
    let answers = r.delegated_answers.as_deref().map(json).transpose()?;
    let ciba = r.ciba.as_ref();
    Ok(sqlx::query(sql)
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
        .bind(ciba.map(|c| c.auth_req_id.as_str()))
        .bind(ciba.and_then(|c| c.binding_message.as_deref()))
        .bind(ciba.and_then(|c| c.notification_token.as_deref()))
        .bind(ciba.and_then(|c| c.last_polled_at))
        .bind(answers)
        .bind(phone_hash))
}

/// Takes the locks under which the requests waiting for a phone number (and its person,
/// if known) are counted: the number first, then the person, always in that order.
async fn lock_waiting(
    conn: &mut PgConnection,
    phone_hash: &[u8],
    user_id: Option<Uuid>,
) -> Result<()> {
    lock(conn, Lock::Phone, &hex(phone_hash)).await?;
    if let Some(user_id) = user_id {
        lock(conn, Lock::Person, &user_id.to_string()).await?;
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) async fn insert_code(conn: &mut PgConnection, c: &AuthCode) -> Result<()> {
    execute(
        conn,
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
        .bind(c.expires_at),
    )
    .await?;
    Ok(())
}

#[async_trait]
impl LoginRequestStore for PgStore {
    async fn create_login_request(&self, r: &LoginRequest) -> Result<()> {
        const SQL: &str = concat!(
            "INSERT INTO login_requests (",
            insert_columns!(),
            ") VALUES (",
            insert_values!(),
            ")"
        );
        execute(&self.pool, bind_login_request(SQL, r, None)?).await?;
        Ok(())
    }

    async fn create_ciba_request(
        &self,
        r: &LoginRequest,
        phone_hash: &[u8],
        limits: NumberLimits,
        now: Timestamp,
    ) -> Result<bool> {
        // Checked, inserted and the budget spent in one statement, under the locks of
        // what it counts; it changes one row (the budget's) when the request is stored.
        const SQL: &str = concat!(
            "WITH created AS (INSERT INTO login_requests (",
            insert_columns!(),
            ") SELECT ",
            insert_values!(),
            " WHERE (SELECT COUNT(*) FROM login_requests WHERE (phone_hash = $33 OR user_id = $18) AND status = $34 AND expires_at > $35) < $36",
            " AND COALESCE((SELECT spent_until FROM phone_budgets WHERE phone_hash = $33), 0) <= $37 + $39",
            " RETURNING 1) ",
            spend_budget!("$33", "$37", "$38", "created")
        );
        let (share, ahead) = limits.budget_ms();
        let mut tx = self.begin().await?;
        lock_waiting(&mut tx, phone_hash, r.user_id).await?;
        let done = execute(
            &mut *tx,
            bind_login_request(SQL, r, Some(phone_hash))?
                .bind(Status::Waiting.as_str())
                .bind(now)
                .bind(limits.pending)
                .bind(now.saturating_mul(1000))
                .bind(share)
                .bind(ahead),
        )
        .await?;
        if done != 1 {
            return Ok(false);
        }
        commit(tx).await?;
        Ok(true)
    }

    async fn get_login_request(&self, id: Uuid) -> Result<Option<LoginRequest>> {
        const SQL: &str = concat!(
            "SELECT ",
            login_request_columns!(),
            " FROM login_requests WHERE id = $1"
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(id.to_string()),
            rows::login_request,
        )
        .await
    }

    async fn send_login_request(&self, id: Uuid, d: &PhoneDispatch<'_>) -> Result<bool> {
        const SQL: &str = concat!(
            "WITH sent AS (UPDATE login_requests SET status = $9, phone_hash = $7, user_id = $2, challenge = $3, choices = $4, remember_browser = $5
                 WHERE id = $1 AND status = $10 AND expires_at > $6
                   AND (SELECT COUNT(*) FROM login_requests WHERE (phone_hash = $7 OR user_id = $2) AND status = $9 AND expires_at > $6) < $8
                   AND COALESCE((SELECT spent_until FROM phone_budgets WHERE phone_hash = $7), 0) <= $11 + $13
                 RETURNING 1) ",
            spend_budget!("$7", "$11", "$12", "sent")
        );
        let (share, ahead) = d.limits.budget_ms();
        let mut tx = self.begin().await?;
        lock_waiting(&mut tx, d.phone_hash, d.user_id).await?;
        let done = execute(
            &mut *tx,
            sqlx::query(SQL)
                .bind(id.to_string())
                .bind(d.user_id.map(|u| u.to_string()))
                .bind(i64::from(d.challenge))
                .bind(choices_text(d.choices))
                .bind(d.remember_browser)
                .bind(d.now)
                .bind(d.phone_hash)
                .bind(d.limits.pending)
                .bind(Status::Waiting.as_str())
                .bind(Status::New.as_str())
                .bind(d.now.saturating_mul(1000))
                .bind(share)
                .bind(ahead),
        )
        .await?;
        if done != 1 {
            return Ok(false);
        }
        commit(tx).await?;
        Ok(true)
    }

    async fn phone_budget(&self, phone_hash: &[u8]) -> Result<Option<i64>> {
        query_opt(
            &self.pool,
            sqlx::query("SELECT spent_until FROM phone_budgets WHERE phone_hash = $1")
                .bind(phone_hash),
            |row| sqlx::Row::try_get(row, 0).map_err(super::db_error),
        )
        .await
    }

    async fn confirm_login_request(
        &self,
        id: Uuid,
        c: &Confirmation<'_>,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        // The update, with `user_check` in its condition; it returns the sales unit.
        macro_rules! confirm {
            ($user_check:literal) => {
                concat!(
                    "UPDATE login_requests SET status = $7, user_id = $2, amr = $3, remember_browser = $4, auth_time = $5, expires_at = $6,
                            delegated_answers = COALESCE($9, delegated_answers), resume_hash = COALESCE($10, resume_hash)
                     WHERE id = $1 AND status = $8 AND expires_at > $5",
                    $user_check,
                    " RETURNING client_id"
                )
            };
        }
        let (from, sql) = match c.amr {
            Amr::App => (Status::Waiting, confirm!(" AND user_id = $2")),
            Amr::RememberedBrowser => (Status::New, confirm!("")),
        };
        let answers = c.delegated_answers.map(json).transpose()?;
        let to = if c.code.is_some() {
            Status::Done
        } else {
            Status::Confirmed
        };
        let mut tx = self.begin().await?;
        let client_id: Option<String> = query_opt(
            &mut *tx,
            sqlx::query(sql)
                .bind(id.to_string())
                .bind(c.user_id.to_string())
                .bind(c.amr.as_str())
                .bind(c.remember_browser)
                .bind(c.now)
                .bind(c.expires_at)
                .bind(to.as_str())
                .bind(from.as_str())
                .bind(answers)
                .bind(c.resume_hash),
            |row| Columns::new(row).get("client_id"),
        )
        .await?;
        let Some(client_id) = client_id else {
            return Ok(false);
        };
        if let Some(scopes) = c.consent {
            upsert_consent(&mut tx, c.user_id, &client_id, scopes, c.now).await?;
        }
        if let Some(code) = c.code {
            insert_code(&mut tx, code).await?;
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
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
        let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        let mut tx = self.begin().await?;
        let done = execute(
            &mut *tx,
            sqlx::query(
                "UPDATE login_requests SET status = $5, error = $2
                 WHERE id = $1 AND expires_at > $4 AND ($3::text IS NULL OR user_id = $3) AND status = ANY($6)",
            )
            .bind(id.to_string())
            .bind(error.as_str())
            .bind(user_id.map(|u| u.to_string()))
            .bind(now)
            .bind(Status::Failed.as_str())
            .bind(from),
        )
        .await?;
        if done != 1 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn expire_login_request(
        &self,
        id: Uuid,
        user_id: Uuid,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = execute(
            &mut *tx,
            sqlx::query(
                "UPDATE login_requests SET expires_at = $3
                 WHERE id = $1 AND user_id = $2 AND status = $4 AND expires_at > $3",
            )
            .bind(id.to_string())
            .bind(user_id.to_string())
            .bind(now)
            .bind(Status::Waiting.as_str()),
        )
        .await?;
        if done != 1 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn complete_login_request(
        &self,
        id: Uuid,
        completion: &Completion<'_>,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let c = completion.code;
        let mut tx = self.begin().await?;
        let done = execute(
            &mut *tx,
            sqlx::query(
                "UPDATE login_requests SET status = $2 WHERE id = $1 AND status = $3 AND expires_at > $4",
            )
            .bind(id.to_string())
            .bind(Status::Done.as_str())
            .bind(Status::Confirmed.as_str())
            .bind(completion.now),
        )
        .await?;
        if done != 1 {
            return Ok(false);
        }
        insert_code(&mut tx, c).await?;
        if let Some((scopes, now)) = completion.consent {
            upsert_consent(&mut tx, c.user_id, &c.client_id, scopes, now).await?;
        }
        if let Some((b, token_hash)) = completion.browser {
            insert_browser(&mut tx, b, token_hash).await?;
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn set_login_ticket(&self, id: Uuid, ticket_hash: &[u8], now: Timestamp) -> Result<bool> {
        let done = execute(
            &self.pool,
            sqlx::query(
                "UPDATE login_requests SET ticket_hash = $2 WHERE id = $1 AND status = $4 AND expires_at > $3",
            )
            .bind(id.to_string())
            .bind(ticket_hash)
            .bind(now)
            .bind(Status::New.as_str()),
        )
        .await?;
        Ok(done == 1)
    }

    async fn open_login_ticket(
        &self,
        ticket_hash: &[u8],
        user_id: Uuid,
        now: Timestamp,
    ) -> Result<Option<LoginRequest>> {
        const SQL: &str = concat!(
            "UPDATE login_requests SET status = $4, user_id = $2, ticket_hash = NULL
             WHERE ticket_hash = $1 AND status = $5 AND expires_at > $3
             RETURNING ",
            login_request_columns!()
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL)
                .bind(ticket_hash)
                .bind(user_id.to_string())
                .bind(now)
                .bind(Status::Waiting.as_str())
                .bind(Status::New.as_str()),
            rows::login_request,
        )
        .await
    }

    async fn take_resume_token(&self, id: Uuid, token_hash: &[u8]) -> Result<bool> {
        let done = execute(
            &self.pool,
            sqlx::query(
                "UPDATE login_requests SET resume_hash = NULL WHERE id = $1 AND resume_hash = $2",
            )
            .bind(id.to_string())
            .bind(token_hash),
        )
        .await?;
        Ok(done == 1)
    }

    async fn get_ciba_request(
        &self,
        auth_req_id: &str,
        client_id: &str,
    ) -> Result<Option<LoginRequest>> {
        const SQL: &str = concat!(
            "SELECT ",
            login_request_columns!(),
            " FROM login_requests WHERE auth_req_id = $1 AND client_id = $2"
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(auth_req_id).bind(client_id),
            rows::login_request,
        )
        .await
    }

    async fn record_poll(&self, id: Uuid, now: Timestamp) -> Result<()> {
        execute(
            &self.pool,
            sqlx::query("UPDATE login_requests SET last_polled_at = $2 WHERE id = $1")
                .bind(id.to_string())
                .bind(now),
        )
        .await?;
        Ok(())
    }

    async fn finish_ciba_request(
        &self,
        id: Uuid,
        now: Timestamp,
        token: &AccessToken,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = execute(
            &mut *tx,
            sqlx::query(
                "UPDATE login_requests SET status = $2 WHERE id = $1 AND status = $3 AND kind = $4 AND expires_at > $5",
            )
            .bind(id.to_string())
            .bind(Status::Done.as_str())
            .bind(Status::Confirmed.as_str())
            .bind(Kind::MerchantInitiated.as_str())
            .bind(now),
        )
        .await?;
        if done != 1 {
            return Ok(false);
        }
        insert_token(&mut tx, token).await?;
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn list_pending_login_requests(
        &self,
        user_id: Uuid,
        now: Timestamp,
    ) -> Result<Vec<LoginRequest>> {
        const SQL: &str = concat!(
            "SELECT ",
            login_request_columns!(),
            " FROM login_requests WHERE user_id = $1 AND status = $3 AND expires_at > $2 ORDER BY created_at"
        );
        query_all(
            &self.pool,
            sqlx::query(SQL)
                .bind(user_id.to_string())
                .bind(now)
                .bind(Status::Waiting.as_str()),
            rows::login_request,
        )
        .await
    }
}
