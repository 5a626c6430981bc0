//! Login events between the instances that share a database: this instance's events go
//! out through the store's broadcast (PostgreSQL `NOTIFY`) in batches, and the others'
//! are delivered to this instance's listeners, so the browser waiting on one instance
//! continues the moment the app approves on another. With SQLite (one instance) the
//! relay stops at once and events never leave the process.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use uuid::Uuid;

use crate::events::LoginEvent;
use crate::state::App;

/// Messages one broadcast carries at most (a `NOTIFY` payload holds 8,000 bytes; an
/// event takes at most 78 with the instance's id).
const BATCH: usize = 64;

/// Relays events between the instances sharing the database, until the server stops:
/// this instance's events go out in batches, and the others' are delivered to this
/// instance's listeners. Returns at once when the database has no other instances.
pub(crate) async fn run(app: Arc<App>) {
    let store = app.service.store.clone();
    let events = &app.service.events;
    let me = Uuid::new_v4().simple().to_string();
    let mut listener = loop {
        match store.listen().await {
            Ok(Some(listener)) => break listener,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "events: cannot listen to the other instances");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let (to_others, mut outgoing) = mpsc::unbounded_channel::<LoginEvent>();
    if !events.reach_others(to_others) {
        return;
    }
    let sender = {
        let me = me.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while outgoing.recv_many(&mut batch, BATCH).await > 0 {
                let messages: Vec<String> = batch
                    .drain(..)
                    .map(|event| format!("{me} {}", event.encode()))
                    .collect();
                if let Err(e) = store.broadcast(&messages).await {
                    tracing::warn!(error = %e, "events: not sent to the other instances");
                }
            }
        })
    };
    loop {
        match listener.recv().await {
            Ok(message) => {
                let Some((from, event)) = message.split_once(' ') else {
                    continue;
                };
                if from == me {
                    continue;
                }
                match LoginEvent::decode(event) {
                    Some(event) => events.deliver(event),
                    None => tracing::warn!(message, "events: unreadable message"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "events: lost the other instances; listening again");
                tokio::time::sleep(Duration::from_millis(200)).await;
                match app.service.store.listen().await {
                    Ok(Some(again)) => listener = again,
                    Ok(None) => break,
                    Err(e) => tracing::warn!(error = %e, "events: cannot listen again yet"),
                }
            }
        }
    }
    sender.abort();
}
