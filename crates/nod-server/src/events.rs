//! In-process notifications: a login request changed, or a user got a new one. Browsers'
//! and apps' server-sent event streams listen here, so a confirmation reaches the waiting
//! page at once.

use tokio::sync::broadcast;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginEvent {
    /// A login request's status changed (confirmed, failed, done).
    Changed { id: Uuid },
    /// A user has a new login request waiting in the app.
    Sent { id: Uuid, user_id: Uuid },
    /// A user's login request is no longer pending.
    Closed { id: Uuid, user_id: Uuid },
}

/// The event bus. Slow listeners miss events rather than slowing senders; every stream
/// re-reads state from the store, so a missed event only delays, never loses, an update.
#[derive(Clone)]
pub struct Events(broadcast::Sender<LoginEvent>);

impl Default for Events {
    fn default() -> Self {
        Self(broadcast::channel(1024).0)
    }
}

impl Events {
    pub fn send(&self, event: LoginEvent) {
        // No listeners is fine.
        let _ = self.0.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LoginEvent> {
        self.0.subscribe()
    }
}
