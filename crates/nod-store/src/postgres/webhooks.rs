//! Webhook registrations: at most a limit per sales unit and event, counted under an
//! advisory lock of the sales unit's registrations in the statement that inserts.

use async_trait::async_trait;
use nod_core::webhook::{Webhook, WebhookEvent};
use uuid::Uuid;

use super::rows::{self, webhook_columns};
use super::{Lock, PgStore, commit, execute, json, lock, query_all};
use crate::{Result, WebhookStore};

#[async_trait]
impl WebhookStore for PgStore {
    async fn create_webhook(&self, w: &Webhook, limit: i64) -> Result<bool> {
        let events: Vec<&str> = w.events.iter().map(|e| e.as_str()).collect();
        let events = json(&events)?;
        let mut tx = self.begin().await?;
        lock(&mut tx, Lock::Webhooks, &w.client_id).await?;
        // Inserted only if none of the new registration's events has `limit`
        // registrations of this sales unit already.
        let done = execute(
            &mut *tx,
            sqlx::query(
                "INSERT INTO webhooks (id, client_id, url, events, secret, created_at)
                 SELECT $1, $2, $3, $4, $5, $6
                 WHERE NOT EXISTS (
                     SELECT 1 FROM webhooks w, jsonb_array_elements_text(w.events::jsonb) e (event)
                     WHERE w.client_id = $2
                       AND e.event IN (SELECT jsonb_array_elements_text($4::jsonb))
                     GROUP BY e.event HAVING COUNT(*) >= $7
                 )",
            )
            .bind(w.id.to_string())
            .bind(&w.client_id)
            .bind(&w.url)
            .bind(events)
            .bind(&w.secret)
            .bind(w.created_at)
            .bind(limit),
        )
        .await?;
        if done != 1 {
            return Ok(false);
        }
        commit(tx).await?;
        Ok(true)
    }

    async fn list_webhooks(&self, client_id: &str) -> Result<Vec<Webhook>> {
        const SQL: &str = concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE client_id = $1 ORDER BY created_at, id"
        );
        query_all(&self.pool, sqlx::query(SQL).bind(client_id), rows::webhook).await
    }

    async fn list_webhooks_for_event(
        &self,
        client_id: &str,
        event: WebhookEvent,
    ) -> Result<Vec<Webhook>> {
        const SQL: &str = concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks w
             WHERE client_id = $1
               AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(w.events::jsonb) e (event) WHERE e.event = $2)
             ORDER BY created_at, id"
        );
        query_all(
            &self.pool,
            sqlx::query(SQL).bind(client_id).bind(event.as_str()),
            rows::webhook,
        )
        .await
    }

    async fn delete_webhook(&self, client_id: &str, id: Uuid) -> Result<bool> {
        let done = execute(
            &self.pool,
            sqlx::query("DELETE FROM webhooks WHERE id = $1 AND client_id = $2")
                .bind(id.to_string())
                .bind(client_id),
        )
        .await?;
        Ok(done == 1)
    }
}
