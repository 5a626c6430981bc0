//! Login requests: every move of a request is one conditional statement (compare-and-set
//! on the status) in one transaction with what it stores alongside (consent, code,
//! browser, audit entries), so of two moves at the same moment exactly one wins.

use async_trait::async_trait;
use nod_core::grant::{AccessToken, AuthCode};
use nod_core::login::{Amr, Kind, LoginRequest, Status};
use nod_core::{ErrorCode, Timestamp};
use rusqlite::Connection;
use uuid::Uuid;

use super::Transaction;

use super::consents::upsert_consent;
use super::devices::insert_browser;
use super::grants::insert_token;
use super::rows::{self, Columns, choices_text, login_request_columns};
use super::{Param, SqliteStore, commit, execute, insert_audit, json, query_all, query_opt};
use crate::{
    AuditEvent, Completion, Confirmation, LoginRequestStore, NumberLimits, PhoneDispatch, Result,
};

/// The columns of a new login request, in the order [`insert_login_request`] binds them
/// (`?1` to `?33`).
macro_rules! insert_columns {
    () => {
        "id, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method, flow, app_callback_uri, final_redirect_is_app, acr_app_auth, prompt, response_mode, browser_binding, csrf_token, status, user_id, challenge, choices, remember_browser, amr, error, created_at, expires_at, auth_time, kind, auth_req_id, binding_message, notification_token, last_polled_at, delegated_answers, phone_hash"
    };
}
macro_rules! insert_values {
    () => {
        "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33"
    };
}

/// Runs `sql`, which takes the request's columns as `?1` to `?33` and `extra` from `?34`
/// on.
fn insert_login_request(
    conn: &Connection,
    sql: &str,
    r: &LoginRequest,
    phone_hash: Option<&[u8]>,
    extra: &[Param<'_>],
) -> Result<usize> {
    let id = r.id.to_string();
    let user_id = r.user_id.map(|u| u.to_string());
    let choices = r.choices.map(choices_text);
    let answers = r.delegated_answers.as_deref().map(json).transpose()?;
    let ciba = r.ciba.as_ref();
    let columns: [Param<'_>; 33] = [
        &id,
        &r.client_id,
        &r.redirect_uri,
        &r.scopes.bits(),
        &r.state,
        &r.nonce,
        &r.code_challenge,
        &r.code_challenge_method.map(|m| m.as_str()),
        &r.flow.as_str(),
        &r.app_callback_uri,
        &r.final_redirect_is_app,
        &r.acr_app_auth,
        &r.prompt.as_str(),
        &r.response_mode.as_str(),
        &r.browser_binding,
        &r.csrf_token,
        &r.status.as_str(),
        &user_id,
        &r.challenge.map(i64::from),
        &choices,
        &r.remember_browser,
        &r.amr.map(|a| a.as_str()),
        &r.error.map(|e| e.as_str()),
        &r.created_at,
        &r.expires_at,
        &r.auth_time,
        &r.kind.as_str(),
        &ciba.map(|c| c.auth_req_id.as_str()),
        &ciba.and_then(|c| c.binding_message.as_deref()),
        &ciba.and_then(|c| c.notification_token.as_deref()),
        &ciba.and_then(|c| c.last_polled_at),
        &answers,
        &phone_hash,
    ];
    let params: Vec<Param<'_>> = columns.iter().chain(extra).copied().collect();
    execute(conn, sql, params.as_slice())
}

/// `status IN (?n, …)` for the given states, numbering parameters from `first`.
fn status_in(from: &[Status], first: usize) -> String {
    let params: Vec<String> = (first..first + from.len())
        .map(|i| format!("?{i}"))
        .collect();
    format!("status IN ({})", params.join(", "))
}

pub(super) fn insert_code(conn: &Connection, c: &AuthCode) -> Result<()> {
    execute(
        conn,
        "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge, code_challenge_method, sid, auth_time, amr, acr, auth_req_id, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        rusqlite::params![
            c.code_hash,
            c.client_id,
            c.user_id.to_string(),
            c.redirect_uri,
            c.scopes.bits(),
            c.nonce,
            c.code_challenge,
            c.code_challenge_method.map(|m| m.as_str()),
            c.sid.to_string(),
            c.auth_time,
            c.amr.as_str(),
            c.acr,
            c.auth_req_id,
            c.expires_at,
        ],
    )?;
    Ok(())
}

/// Ends a move's transaction: when the conditional update matched, writes its audit
/// entries and commits; when it did not, drops the transaction (nothing was written).
fn commit_move(tx: Transaction<'_>, moved: bool, audit: &[AuditEvent<'_>]) -> Result<bool> {
    if !moved {
        return Ok(false);
    }
    insert_audit(&tx, audit)?;
    commit(tx)?;
    Ok(true)
}

/// After a request was sent to a number (`sent`), spends one request's share of the
/// number's budget and commits; rolls back otherwise.
fn spend_budget(
    tx: Transaction<'_>,
    sent: bool,
    phone_hash: &[u8],
    now_ms: i64,
    share: i64,
) -> Result<bool> {
    if !sent {
        return Ok(false);
    }
    execute(
        &tx,
        "INSERT INTO phone_budgets (phone_hash, spent_until) VALUES (?1, ?2 + ?3)
         ON CONFLICT (phone_hash) DO UPDATE SET spent_until = MAX(spent_until, ?2) + ?3",
        rusqlite::params![phone_hash, now_ms, share],
    )?;
    commit(tx)?;
    Ok(true)
}

#[async_trait]
impl LoginRequestStore for SqliteStore {
    async fn create_login_request(&self, r: &LoginRequest) -> Result<()> {
        const SQL: &str = concat!(
            "INSERT INTO login_requests (",
            insert_columns!(),
            ") VALUES (",
            insert_values!(),
            ")"
        );
        self.write(|conn| insert_login_request(conn, SQL, r, None, &[]))?;
        Ok(())
    }

    async fn create_ciba_request(
        &self,
        r: &LoginRequest,
        phone_hash: &[u8],
        limits: NumberLimits,
        now: Timestamp,
    ) -> Result<bool> {
        // The limits are read in the insert's condition; the writer is this one's alone
        // until the budget is spent and the transaction commits.
        const SQL: &str = concat!(
            "INSERT INTO login_requests (",
            insert_columns!(),
            ") SELECT ",
            insert_values!(),
            " WHERE (SELECT COUNT(*) FROM login_requests WHERE (phone_hash = ?33 OR user_id = ?18) AND status = ?34 AND expires_at > ?35) < ?36",
            " AND COALESCE((SELECT spent_until FROM phone_budgets WHERE phone_hash = ?33), 0) <= ?37"
        );
        let (share, ahead) = limits.budget_ms();
        let now_ms = now.saturating_mul(1000);
        self.transaction(|tx| {
            let done = insert_login_request(
                &tx,
                SQL,
                r,
                Some(phone_hash),
                &[
                    &Status::Waiting.as_str(),
                    &now,
                    &limits.pending,
                    &(now_ms + ahead),
                ],
            )?;
            spend_budget(tx, done == 1, phone_hash, now_ms, share)
        })
    }

    async fn get_login_request(&self, id: Uuid) -> Result<Option<LoginRequest>> {
        const SQL: &str = concat!(
            "SELECT ",
            login_request_columns!(),
            " FROM login_requests WHERE id = ?1"
        );
        self.read(|conn| query_opt(conn, SQL, [id.to_string()], rows::login_request))
    }

    async fn send_login_request(&self, id: Uuid, d: &PhoneDispatch<'_>) -> Result<bool> {
        let (share, ahead) = d.limits.budget_ms();
        let now_ms = d.now.saturating_mul(1000);
        self.transaction(|tx| {
            let done = execute(
                &tx,
                "UPDATE login_requests SET status = ?9, phone_hash = ?7, user_id = ?2, challenge = ?3, choices = ?4, remember_browser = ?5
                 WHERE id = ?1 AND status = ?10 AND expires_at > ?6
                   AND (SELECT COUNT(*) FROM login_requests WHERE (phone_hash = ?7 OR user_id = ?2) AND status = ?9 AND expires_at > ?6) < ?8
                   AND COALESCE((SELECT spent_until FROM phone_budgets WHERE phone_hash = ?7), 0) <= ?11",
                rusqlite::params![
                    id.to_string(),
                    d.user_id.map(|u| u.to_string()),
                    i64::from(d.challenge),
                    choices_text(d.choices),
                    d.remember_browser,
                    d.now,
                    d.phone_hash,
                    d.limits.pending,
                    Status::Waiting.as_str(),
                    Status::New.as_str(),
                    now_ms + ahead,
                ],
            )?;
            spend_budget(tx, done == 1, d.phone_hash, now_ms, share)
        })
    }

    async fn phone_budget(&self, phone_hash: &[u8]) -> Result<Option<i64>> {
        self.read(|conn| {
            query_opt(
                conn,
                "SELECT spent_until FROM phone_budgets WHERE phone_hash = ?1",
                [phone_hash],
                |row| row.get(0).map_err(super::db_error),
            )
        })
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
                    "UPDATE login_requests SET status = ?7, user_id = ?2, amr = ?3, remember_browser = ?4, auth_time = ?5, expires_at = ?6,
                            delegated_answers = COALESCE(?9, delegated_answers), resume_hash = COALESCE(?10, resume_hash)
                     WHERE id = ?1 AND status = ?8 AND expires_at > ?5",
                    $user_check,
                    " RETURNING client_id"
                )
            };
        }
        let (from, sql) = match c.amr {
            Amr::App => (Status::Waiting, confirm!(" AND user_id = ?2")),
            Amr::RememberedBrowser => (Status::New, confirm!("")),
        };
        let answers = c.delegated_answers.map(json).transpose()?;
        let to = if c.code.is_some() {
            Status::Done
        } else {
            Status::Confirmed
        };
        self.transaction(|tx| {
            let client_id: Option<String> = query_opt(
                &tx,
                sql,
                rusqlite::params![
                    id.to_string(),
                    c.user_id.to_string(),
                    c.amr.as_str(),
                    c.remember_browser,
                    c.now,
                    c.expires_at,
                    to.as_str(),
                    from.as_str(),
                    answers,
                    c.resume_hash,
                ],
                |row| Columns::new(row).get("client_id"),
            )?;
            let Some(client_id) = client_id else {
                return Ok(false);
            };
            if let Some(scopes) = c.consent {
                upsert_consent(&tx, c.user_id, &client_id, scopes, c.now)?;
            }
            if let Some(code) = c.code {
                insert_code(&tx, code)?;
            }
            insert_audit(&tx, audit)?;
            commit(tx)?;
            Ok(true)
        })
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
            "UPDATE login_requests SET status = ?5, error = ?2
             WHERE id = ?1 AND expires_at > ?4 AND (?3 IS NULL OR user_id = ?3) AND {}",
            status_in(from, 6)
        );
        let id = id.to_string();
        let user_id = user_id.map(|u| u.to_string());
        let first: [Param<'_>; 5] = [
            &id,
            &error.as_str(),
            &user_id,
            &now,
            &Status::Failed.as_str(),
        ];
        let names: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        let params: Vec<Param<'_>> = first
            .into_iter()
            .chain(names.iter().map(|n| n as Param<'_>))
            .collect();
        self.transaction(|tx| {
            let done = execute(&tx, &sql, params.as_slice())?;
            commit_move(tx, done == 1, audit)
        })
    }

    async fn expire_login_request(
        &self,
        id: Uuid,
        user_id: Uuid,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        self.transaction(|tx| {
            let done = execute(
                &tx,
                "UPDATE login_requests SET expires_at = ?3
                 WHERE id = ?1 AND user_id = ?2 AND status = ?4 AND expires_at > ?3",
                rusqlite::params![
                    id.to_string(),
                    user_id.to_string(),
                    now,
                    Status::Waiting.as_str(),
                ],
            )?;
            commit_move(tx, done == 1, audit)
        })
    }

    async fn complete_login_request(
        &self,
        id: Uuid,
        completion: &Completion<'_>,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let c = completion.code;
        self.transaction(|tx| {
            let done = execute(
                &tx,
                "UPDATE login_requests SET status = ?2 WHERE id = ?1 AND status = ?3 AND expires_at > ?4",
                rusqlite::params![
                    id.to_string(),
                    Status::Done.as_str(),
                    Status::Confirmed.as_str(),
                    completion.now,
                ],
            )?;
            if done != 1 {
                return Ok(false);
            }
            insert_code(&tx, c)?;
            if let Some((scopes, now)) = completion.consent {
                upsert_consent(&tx, c.user_id, &c.client_id, scopes, now)?;
            }
            if let Some((b, token_hash)) = completion.browser {
                insert_browser(&tx, b, token_hash)?;
            }
            insert_audit(&tx, audit)?;
            commit(tx)?;
            Ok(true)
        })
    }

    async fn set_login_ticket(&self, id: Uuid, ticket_hash: &[u8], now: Timestamp) -> Result<bool> {
        let done = self.write(|conn| {
            execute(
                conn,
                "UPDATE login_requests SET ticket_hash = ?2 WHERE id = ?1 AND status = ?4 AND expires_at > ?3",
                rusqlite::params![id.to_string(), ticket_hash, now, Status::New.as_str()],
            )
        })?;
        Ok(done == 1)
    }

    async fn open_login_ticket(
        &self,
        ticket_hash: &[u8],
        user_id: Uuid,
        now: Timestamp,
    ) -> Result<Option<LoginRequest>> {
        const SQL: &str = concat!(
            "UPDATE login_requests SET status = ?4, user_id = ?2, ticket_hash = NULL
             WHERE ticket_hash = ?1 AND status = ?5 AND expires_at > ?3
             RETURNING ",
            login_request_columns!()
        );
        self.write(|conn| {
            query_opt(
                conn,
                SQL,
                rusqlite::params![
                    ticket_hash,
                    user_id.to_string(),
                    now,
                    Status::Waiting.as_str(),
                    Status::New.as_str(),
                ],
                rows::login_request,
            )
        })
    }

    async fn take_resume_token(&self, id: Uuid, token_hash: &[u8]) -> Result<bool> {
        let done = self.write(|conn| {
            execute(
                conn,
                "UPDATE login_requests SET resume_hash = NULL WHERE id = ?1 AND resume_hash = ?2",
                rusqlite::params![id.to_string(), token_hash],
            )
        })?;
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
            " FROM login_requests WHERE auth_req_id = ?1 AND client_id = ?2"
        );
        self.read(|conn| query_opt(conn, SQL, [auth_req_id, client_id], rows::login_request))
    }

    async fn record_poll(&self, id: Uuid, now: Timestamp) -> Result<()> {
        self.write(|conn| {
            execute(
                conn,
                "UPDATE login_requests SET last_polled_at = ?2 WHERE id = ?1",
                rusqlite::params![id.to_string(), now],
            )
        })?;
        Ok(())
    }

    async fn finish_ciba_request(
        &self,
        id: Uuid,
        now: Timestamp,
        token: &AccessToken,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        self.transaction(|tx| {
            let done = execute(
                &tx,
                "UPDATE login_requests SET status = ?2 WHERE id = ?1 AND status = ?3 AND kind = ?4 AND expires_at > ?5",
                rusqlite::params![
                    id.to_string(),
                    Status::Done.as_str(),
                    Status::Confirmed.as_str(),
                    Kind::MerchantInitiated.as_str(),
                    now,
                ],
            )?;
            if done == 1 {
                insert_token(&tx, token)?;
            }
            commit_move(tx, done == 1, audit)
        })
    }

    async fn list_pending_login_requests(
        &self,
        user_id: Uuid,
        now: Timestamp,
    ) -> Result<Vec<LoginRequest>> {
        const SQL: &str = concat!(
            "SELECT ",
            login_request_columns!(),
            " FROM login_requests WHERE user_id = ?1 AND status = ?3 AND expires_at > ?2 ORDER BY created_at"
        );
        self.read(|conn| {
            query_all(
                conn,
                SQL,
                rusqlite::params![user_id.to_string(), now, Status::Waiting.as_str()],
                rows::login_request,
            )
        })
    }
}
