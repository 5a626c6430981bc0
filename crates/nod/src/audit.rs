//! `nod audit list`: the audit log of security events, newest first.

use anyhow::Context;
use nod_core::Timestamp;
use nod_server::Clock;
use nod_store::{AuditEvent, Store};
use serde_json::json;
use uuid::Uuid;

use crate::cli::AuditCommand;
use crate::config::Settings;
use crate::time::{format_time, since};

/// Writes an entry for a change made from the command line (a sales unit, a partner).
/// The change is made already: an entry that cannot be written is an error the operator
/// sees.
pub(crate) async fn record(
    store: &dyn Store,
    at: Timestamp,
    event: &str,
    client_id: Option<&str>,
    detail: &str,
) -> anyhow::Result<()> {
    let entry = AuditEvent {
        at,
        event,
        user_id: None,
        client_id,
        detail,
    };
    store.record_audit(&entry).await.with_context(|| {
        format!("the change is made, but its audit entry ({event}) was not written")
    })
}

pub(crate) async fn run(settings: &Settings, command: AuditCommand) -> anyhow::Result<()> {
    let store = nod_store::connect(&settings.database_url).await?;
    let now = nod_server::SystemClock.now();
    match command {
        AuditCommand::List {
            since: from,
            user,
            limit,
        } => {
            let from = since(from.as_deref(), now)?;
            // An id as given (the log outlives the users it names); a phone number, of a
            // user that exists.
            let user_id = match user {
                None => None,
                Some(key) => Some(match Uuid::parse_str(&key) {
                    Ok(id) => id,
                    Err(_) => crate::user::find(store.as_ref(), &key).await?.id,
                }),
            };
            let entries = store.list_audit(from, user_id, limit).await?;
            if settings.json {
                let list: Vec<_> = entries
                    .iter()
                    .map(|e| {
                        json!({
                            "id": e.id,
                            "at": e.at,
                            "event": e.event,
                            "user_id": e.user_id,
                            "client_id": e.client_id,
                            "detail": e.detail,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else if entries.is_empty() {
                println!("No audit entries.");
            } else {
                for e in entries {
                    println!(
                        "{}  {:<22} {:<36}  {:<24} {}",
                        format_time(e.at),
                        e.event,
                        e.user_id.map_or_else(|| "-".to_owned(), |u| u.to_string()),
                        e.client_id.as_deref().unwrap_or("-"),
                        e.detail
                    );
                }
            }
        }
    }
    Ok(())
}
