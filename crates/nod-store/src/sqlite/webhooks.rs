//! Webhook registrations: at most a limit per sales unit and event, checked in the
//! statement that inserts.

use async_trait::async_trait;
use nod_core::webhook::{Webhook, WebhookEvent};
use uuid::Uuid;

use super::rows::{self, webhook_columns};
use super::{SqliteStore, execute, json, query_all};
use crate::{Result, WebhookStore};

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(&self, w: &Webhook, limit: i64) -> Result<bool> {
        let events: Vec<&str> = w.events.iter().map(|e| e.as_str()).collect();
        let events = json(&events)?;
        // Inserted only if none of the new registration's events has `limit`
        // registrations of this sales unit already.
        let done = self.write(|conn| {
            execute(
                conn,
                "INSERT INTO webhooks (id, client_id, url, events, secret, created_at)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6
                 WHERE NOT EXISTS (
                     SELECT 1 FROM webhooks w, json_each(w.events) e
                     WHERE w.client_id = ?2 AND e.value IN (SELECT value FROM json_each(?4))
                     GROUP BY e.value HAVING COUNT(*) >= ?7
                 )",
                rusqlite::params![
                    w.id.to_string(),
                    w.client_id,
                    w.url,
                    events,
                    w.secret,
                    w.created_at,
                    limit,
                ],
            )
        })?;
        Ok(done == 1)
    }

    async fn list_webhooks(&self, client_id: &str) -> Result<Vec<Webhook>> {
        const SQL: &str = concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE client_id = ?1 ORDER BY created_at, id"
        );
        self.read(|conn| query_all(conn, SQL, [client_id], rows::webhook))
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
             WHERE client_id = ?1 AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = ?2)
             ORDER BY created_at, id"
        );
        self.read(|conn| query_all(conn, SQL, [client_id, event.as_str()], rows::webhook))
    }

    async fn delete_webhook(&self, client_id: &str, id: Uuid) -> Result<bool> {
        let done = self.write(|conn| {
            execute(
                conn,
                "DELETE FROM webhooks WHERE id = ?1 AND client_id = ?2",
                rusqlite::params![id.to_string(), client_id],
            )
        })?;
        Ok(done == 1)
    }
}
