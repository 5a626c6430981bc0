//! The PostgreSQL server of the PostgreSQL sections: its settings, a fresh database for each
//! part, and its postmaster's process for the CPU time of the database work.

use anyhow::{Context, bail};
use sqlx::{Connection, Executor, PgConnection};
use url::Url;

/// Settings that shape the figures: durability, memory, connections.
const SETTINGS: [&str; 7] = [
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "shared_buffers",
    "max_connections",
];

/// A connection to the server's maintenance database (the one `--postgres` names).
pub(crate) struct Admin {
    conn: PgConnection,
    url: Url,
}

impl Admin {
    pub(crate) async fn connect(url: &str) -> anyhow::Result<Self> {
        let parsed = Url::parse(url).with_context(|| format!("--postgres {url}"))?;
        let conn = PgConnection::connect(url)
            .await
            .with_context(|| format!("connecting to {}", without_password(&parsed)))?;
        Ok(Self { conn, url: parsed })
    }

    /// `SHOW` of each setting that shapes the figures: (name, value).
    pub(crate) async fn settings(&mut self) -> anyhow::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for name in SETTINGS {
            let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
                .fetch_one(&mut self.conn)
                .await
                .with_context(|| format!("SHOW {name}"))?;
            out.push((name.to_owned(), value));
        }
        Ok(out)
    }

    /// The postmaster's process id, when the server runs on this machine: the parent of
    /// its checkpointer.
    pub(crate) async fn postmaster(&mut self) -> anyhow::Result<u32> {
        let pid: i32 = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'",
        )
        .fetch_one(&mut self.conn)
        .await
        .context("the checkpointer's pid")?;
        let pid = u32::try_from(pid)?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() != "postgres" {
            bail!("the checkpointer (pid {pid}) is not a process of this machine");
        }
        crate::procfs::parent(pid)
    }

    /// An empty database `name` (dropped first if it is there); its URL.
    pub(crate) async fn fresh_database(&mut self, name: &str) -> anyhow::Result<String> {
        self.drop_database(name).await?;
        self.conn
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        Ok(database_url(&self.url, name))
    }

    pub(crate) async fn drop_database(&mut self, name: &str) -> anyhow::Result<()> {
        self.conn
            .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
            .await
            .with_context(|| format!("DROP DATABASE {name}"))?;
        Ok(())
    }
}

/// The server's URL with `name` as its database.
pub(crate) fn database_url(server: &Url, name: &str) -> String {
    let mut url = server.clone();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// For messages: the URL without its password.
fn without_password(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("…"));
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_of_the_same_server() -> anyhow::Result<()> {
        let server = Url::parse("postgres://postgres:pw@127.0.0.1:5433/postgres?sslmode=disable")?;
        assert_eq!(
            database_url(&server, "nodbench_1"),
            "postgres://postgres:pw@127.0.0.1:5433/nodbench_1?sslmode=disable"
        );
        assert_eq!(
            without_password(&server),
            "postgres://postgres:%E2%80%A6@127.0.0.1:5433/postgres?sslmode=disable"
        );
        Ok(())
    }
}
