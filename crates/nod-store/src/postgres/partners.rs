//! Partners (partner keys): the partner, the MSNs it may act for, its access tokens, and
//! the lookup of a sales unit by MSN.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::partner::{Partner, PartnerToken};

use super::rows::{self, partner_columns, partner_token_columns, sales_unit_columns};
use super::{PgStore, commit, execute, query_all, query_opt};
use crate::{MsnMatch, PartnerStore, Result, StoreError};

#[async_trait]
impl PartnerStore for PgStore {
    async fn create_partner(&self, p: &Partner) -> Result<()> {
        let mut tx = self.begin().await?;
        execute(
            &mut *tx,
            sqlx::query(
                "INSERT INTO partners (id, secret_hash, name, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&p.id)
            .bind(&p.secret_hash)
            .bind(&p.name)
            .bind(p.created_at),
        )
        .await?;
        // All MSNs in one statement; one given twice is stored once.
        execute(
            &mut *tx,
            sqlx::query(
                "INSERT INTO partner_msns (partner_id, msn) SELECT $1, unnest($2::text[])
                 ON CONFLICT DO NOTHING",
            )
            .bind(&p.id)
            .bind(&p.msns),
        )
        .await?;
        commit(tx).await
    }

    async fn get_partner(&self, id: &str) -> Result<Option<Partner>> {
        // The partner's columns and its MSNs, sorted, in one round trip.
        const SQL: &str = concat!(
            "SELECT ",
            partner_columns!(),
            ", ARRAY(SELECT msn FROM partner_msns WHERE partner_id = p.id ORDER BY msn) AS msns
             FROM partners p WHERE id = $1"
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(id),
            rows::partner_with_msns,
        )
        .await
    }

    async fn list_partners(&self) -> Result<Vec<Partner>> {
        const SQL: &str = concat!(
            "SELECT ",
            partner_columns!(),
            ", ARRAY(SELECT msn FROM partner_msns WHERE partner_id = p.id ORDER BY msn) AS msns
             FROM partners p ORDER BY id"
        );
        query_all(&self.pool, sqlx::query(SQL), rows::partner_with_msns).await
    }

    async fn delete_partner(&self, id: &str) -> Result<()> {
        // The foreign keys cascade to its MSNs and tokens.
        let done = execute(
            &self.pool,
            sqlx::query("DELETE FROM partners WHERE id = $1").bind(id),
        )
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn insert_partner_token(&self, t: &PartnerToken) -> Result<()> {
        execute(
            &self.pool,
            sqlx::query(
                "INSERT INTO partner_tokens (token_hash, partner_id, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(&t.token_hash)
            .bind(&t.partner_id)
            .bind(t.expires_at),
        )
        .await?;
        Ok(())
    }

    async fn get_partner_token(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<PartnerToken>> {
        const SQL: &str = concat!(
            "SELECT ",
            partner_token_columns!(),
            " FROM partner_tokens WHERE token_hash = $1 AND expires_at > $2"
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(token_hash).bind(now),
            rows::partner_token,
        )
        .await
    }

    async fn sales_unit_by_msn(&self, msn: &str) -> Result<MsnMatch> {
        // Two rows are enough to tell one from several (index sales_units_msn).
        const SQL: &str = concat!(
            "SELECT ",
            sales_unit_columns!(),
            " FROM sales_units WHERE msn = $1 ORDER BY client_id LIMIT 2"
        );
        let mut units = query_all(&self.pool, sqlx::query(SQL).bind(msn), rows::sales_unit).await?;
        Ok(match units.len() {
            0 => MsnMatch::None,
            1 => MsnMatch::One(Box::new(units.remove(0))),
            _ => MsnMatch::Ambiguous,
        })
    }
}
