//! The outbox of requests to merchants, the leases on background work, and the
//! broadcast between instances.
//!
//! A claim takes the deliveries due with `FOR UPDATE SKIP LOCKED`: two instances
//! claiming at once each get deliveries the other did not lock, never the same one. A
//! lease is an upsert that only an expired lease, or its own holder, lets through.
//! Broadcasts are `NOTIFY` on one channel, delivered on commit to every connection that
//! listens to it (each instance keeps one, outside the pool).

use async_trait::async_trait;
use nod_core::Timestamp;
use sqlx::postgres::PgListener;
use uuid::Uuid;

use super::rows::{self, delivery_columns};
use super::{PgStore, db_error, execute, query_all};
use crate::decode::delivery_auth;
use crate::{BroadcastStore, Delivery, LeaseStore, Listener, OutboxStore, Result};

/// The channel the instances of Nod broadcast on.
const CHANNEL: &str = "nod_events";

#[async_trait]
impl OutboxStore for PgStore {
    async fn enqueue_delivery(&self, d: &Delivery) -> Result<()> {
        let (auth, secret) = delivery_auth(&d.auth);
        execute(
            &self.pool,
            sqlx::query(
                "INSERT INTO deliveries (id, url, content_type, body, auth, secret, attempts, due_at, held_until, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
            )
            .bind(d.id.to_string())
            .bind(&d.url)
            .bind(&d.content_type)
            .bind(&d.body)
            .bind(auth)
            .bind(secret)
            .bind(i64::from(d.attempts))
            .bind(d.due_at)
            .bind(d.created_at),
        )
        .await?;
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        held_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        const SQL: &str = concat!(
            "UPDATE deliveries SET held_until = $2
             WHERE id IN (
                 SELECT id FROM deliveries WHERE due_at <= $1 AND held_until <= $1
                 ORDER BY due_at LIMIT $3
                 FOR UPDATE SKIP LOCKED
             )
             RETURNING ",
            delivery_columns!()
        );
        let mut claimed = query_all(
            &self.pool,
            sqlx::query(SQL)
                .bind(now)
                .bind(held_until)
                .bind(i64::from(limit)),
            rows::delivery,
        )
        .await?;
        // `RETURNING` gives the rows in the order it updated them.
        claimed.sort_by_key(|d| d.due_at);
        Ok(claimed)
    }

    async fn finish_delivery(&self, id: Uuid) -> Result<()> {
        execute(
            &self.pool,
            sqlx::query("DELETE FROM deliveries WHERE id = $1").bind(id.to_string()),
        )
        .await?;
        Ok(())
    }

    async fn retry_delivery(&self, id: Uuid, attempts: u32, due_at: Timestamp) -> Result<()> {
        execute(
            &self.pool,
            sqlx::query(
                "UPDATE deliveries SET attempts = $2, due_at = $3, held_until = 0 WHERE id = $1",
            )
            .bind(id.to_string())
            .bind(i64::from(attempts))
            .bind(due_at),
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl LeaseStore for PgStore {
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let taken = execute(
            &self.pool,
            sqlx::query(
                "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $4)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
                 WHERE leases.holder = excluded.holder OR leases.until <= $3",
            )
            .bind(name)
            .bind(holder)
            .bind(now)
            .bind(until),
        )
        .await?;
        Ok(taken == 1)
    }
}

#[async_trait]
impl BroadcastStore for PgStore {
    async fn broadcast(&self, messages: &[String]) -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        execute(
            &self.pool,
            sqlx::query("SELECT pg_notify($1, m) FROM unnest($2::text[]) AS m")
                .bind(CHANNEL)
                .bind(messages),
        )
        .await?;
        Ok(())
    }

    async fn listen(&self) -> Result<Option<Box<dyn Listener>>> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(db_error)?;
        listener.listen(CHANNEL).await.map_err(db_error)?;
        Ok(Some(Box::new(Notifications(listener))))
    }
}

/// The broadcasts, from a connection of their own that listens to [`CHANNEL`]. When that
/// connection breaks, sqlx opens another at the next `recv` (what was sent meanwhile is
/// missed).
struct Notifications(PgListener);

#[async_trait]
impl Listener for Notifications {
    async fn recv(&mut self) -> Result<String> {
        let notification = self.0.recv().await.map_err(db_error)?;
        Ok(notification.payload().to_owned())
    }
}
