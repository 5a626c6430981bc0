//! Webhook registrations: at most a limit per sales unit and event, checked in the
//! statement that inserts.

use async_trait::async_trait;
use nod_core::webhook::{Webhook, WebhookEvent};
use uuid::Uuid;

use super::rows::WebhookRow;
use super::{SqliteStore, convert_all, db_error, json};
use crate::{Result, WebhookStore};

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(&self, w: &Webhook, limit: i64) -> Result<bool> {
        let events: Vec<&str> = w.events.iter().map(|e| e.as_str()).collect();
        // Inserted only if none of the new registration's events has `limit`
        // registrations of this sales unit already.
        let done = sqlx::query(
            "INSERT INTO webhooks (id, client_id, url, events, secret, created_at)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE NOT EXISTS (
                 SELECT 1 FROM webhooks w, json_each(w.events) e
                 WHERE w.client_id = $2 AND e.value IN (SELECT value FROM json_each($4))
                 GROUP BY e.value HAVING COUNT(*) >= $7
             )",
        )
        .bind(w.id.to_string())
        .bind(&w.client_id)
        .bind(&w.url)
        .bind(json(&events)?)
        .bind(&w.secret)
        .bind(w.created_at)
        .bind(limit)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_webhooks(&self, client_id: &str) -> Result<Vec<Webhook>> {
        let rows = sqlx::query_as::<_, WebhookRow>(
            "SELECT * FROM webhooks WHERE client_id = $1 ORDER BY created_at, id",
        )
        .bind(client_id)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }

    async fn list_webhooks_for_event(
        &self,
        client_id: &str,
        event: WebhookEvent,
    ) -> Result<Vec<Webhook>> {
        let rows = sqlx::query_as::<_, WebhookRow>(
            "SELECT * FROM webhooks w
             WHERE client_id = $1 AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = $2)
             ORDER BY created_at, id",
        )
        .bind(client_id)
        .bind(event.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }

    async fn delete_webhook(&self, client_id: &str, id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND client_id = $2")
            .bind(id.to_string())
            .bind(client_id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }
}
