//! Partners (partner keys): the partner, the MSNs it may act for, its access tokens, and
//! the lookup of a sales unit by MSN.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::partner::{Partner, PartnerToken};

use super::rows::{PartnerRow, PartnerTokenRow, SalesUnitRow};
use super::{SqliteStore, convert, convert_all, db_error};
use crate::{MsnMatch, PartnerStore, Result, StoreError};

#[async_trait]
impl PartnerStore for SqliteStore {
    async fn create_partner(&self, p: &Partner) -> Result<()> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        sqlx::query(
            "INSERT INTO partners (id, secret_hash, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&p.id)
        .bind(&p.secret_hash)
        .bind(&p.name)
        .bind(p.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        for msn in &p.msns {
            sqlx::query("INSERT OR IGNORE INTO partner_msns (partner_id, msn) VALUES ($1, $2)")
                .bind(&p.id)
                .bind(msn)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    async fn get_partner(&self, id: &str) -> Result<Option<Partner>> {
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        let Some(row) = sqlx::query_as::<_, PartnerRow>("SELECT * FROM partners WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        else {
            return Ok(None);
        };
        let msns =
            sqlx::query_scalar("SELECT msn FROM partner_msns WHERE partner_id = $1 ORDER BY msn")
                .bind(id)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_error)?;
        Ok(Some(row.with_msns(msns)))
    }

    async fn list_partners(&self) -> Result<Vec<Partner>> {
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        let rows = sqlx::query_as::<_, PartnerRow>("SELECT * FROM partners ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
        let pairs: Vec<(String, String)> =
            sqlx::query_as("SELECT partner_id, msn FROM partner_msns ORDER BY partner_id, msn")
                .fetch_all(&mut *conn)
                .await
                .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let msns = pairs
                    .iter()
                    .filter(|(partner, _)| *partner == row.id)
                    .map(|(_, msn)| msn.clone())
                    .collect();
                row.with_msns(msns)
            })
            .collect())
    }

    async fn delete_partner(&self, id: &str) -> Result<()> {
        // The foreign keys cascade to its MSNs and tokens.
        let done = sqlx::query("DELETE FROM partners WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn insert_partner_token(&self, t: &PartnerToken) -> Result<()> {
        sqlx::query(
            "INSERT INTO partner_tokens (token_hash, partner_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(&t.token_hash)
        .bind(&t.partner_id)
        .bind(t.expires_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_partner_token(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<PartnerToken>> {
        let row = sqlx::query_as::<_, PartnerTokenRow>(
            "SELECT * FROM partner_tokens WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        convert(row)
    }

    async fn sales_unit_by_msn(&self, msn: &str) -> Result<MsnMatch> {
        // Two rows are enough to tell one from several (index sales_units_msn).
        let rows = sqlx::query_as::<_, SalesUnitRow>(
            "SELECT * FROM sales_units WHERE msn = $1 ORDER BY client_id LIMIT 2",
        )
        .bind(msn)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        let mut units = convert_all(rows)?;
        Ok(match units.len() {
            0 => MsnMatch::None,
            1 => MsnMatch::One(Box::new(units.remove(0))),
            _ => MsnMatch::Ambiguous,
        })
    }
}
