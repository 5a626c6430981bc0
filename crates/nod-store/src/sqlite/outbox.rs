//! The outbox of requests to merchants, and the leases on background work: both are
//! claimed by conditional writes, which SQLite's single writer makes one at a time. And
//! broadcasts, which need no database here: one instance serves a SQLite file.

use async_trait::async_trait;
use nod_core::Timestamp;
use uuid::Uuid;

use super::rows::{self, delivery_columns};
use super::{SqliteStore, execute, query_all};
use crate::{BroadcastStore, Delivery, LeaseStore, Listener, OutboxStore, Result};

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn enqueue_delivery(&self, d: &Delivery) -> Result<()> {
        let (auth, secret) = crate::decode::delivery_auth(&d.auth);
        self.write(|conn| {
            execute(
                conn,
                "INSERT INTO deliveries (id, url, content_type, body, auth, secret, attempts, due_at, held_until, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)",
                rusqlite::params![
                    d.id.to_string(),
                    d.url,
                    d.content_type,
                    d.body,
                    auth,
                    secret,
                    d.attempts,
                    d.due_at,
                    d.created_at,
                ],
            )
        })?;
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        held_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        const SQL: &str = concat!(
            "UPDATE deliveries SET held_until = ?2
             WHERE id IN (
                 SELECT id FROM deliveries WHERE due_at <= ?1 AND held_until <= ?1
                 ORDER BY due_at LIMIT ?3
             )
             RETURNING ",
            delivery_columns!()
        );
        let mut claimed = self.write(|conn| {
            query_all(
                conn,
                SQL,
                rusqlite::params![now, held_until, limit],
                rows::delivery,
            )
        })?;
        // `RETURNING` gives the rows in the order it updated them.
        claimed.sort_by_key(|d| d.due_at);
        Ok(claimed)
    }

    async fn finish_delivery(&self, id: Uuid) -> Result<()> {
        self.write(|conn| {
            execute(
                conn,
                "DELETE FROM deliveries WHERE id = ?1",
                [id.to_string()],
            )
        })?;
        Ok(())
    }

    async fn retry_delivery(&self, id: Uuid, attempts: u32, due_at: Timestamp) -> Result<()> {
        self.write(|conn| {
            execute(
                conn,
                "UPDATE deliveries SET attempts = ?2, due_at = ?3, held_until = 0 WHERE id = ?1",
                rusqlite::params![id.to_string(), attempts, due_at],
            )
        })?;
        Ok(())
    }
}

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let taken = self.write(|conn| {
            execute(
                conn,
                "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, ?4)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
                 WHERE leases.holder = excluded.holder OR leases.until <= ?3",
                rusqlite::params![name, holder, now, until],
            )
        })?;
        Ok(taken == 1)
    }
}

/// One instance serves a SQLite database: its events stay in its own process.
#[async_trait]
impl BroadcastStore for SqliteStore {
    async fn broadcast(&self, _messages: &[String]) -> Result<()> {
        Ok(())
    }

    async fn listen(&self) -> Result<Option<Box<dyn Listener>>> {
        Ok(None)
    }
}
