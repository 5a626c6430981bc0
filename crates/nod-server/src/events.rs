//! Notifications: a login request changed, or a user got a new one. Browsers' and apps'
//! server-sent event streams listen here, so a confirmation reaches the waiting page at
//! once.
//!
//! Listeners subscribe to one login request or one user, never to everything: an event
//! wakes only the streams it concerns, however many browsers are waiting.
//!
//! Several instances on one database: an event also goes to the others (`relay.rs`),
//! through the store's broadcast (PostgreSQL `NOTIFY`), since the browser waiting for a
//! login may be on another instance than the app that approves it. On SQLite (one
//! instance) nothing leaves the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

pub(crate) use tokio::sync::broadcast::error::RecvError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginEvent {
    /// A login request's status changed (confirmed, failed, done).
    Changed { id: Uuid },
    /// A user has a new login request waiting in the app.
    Sent { id: Uuid, user_id: Uuid },
    /// A user's login request is no longer pending.
    Closed { id: Uuid, user_id: Uuid },
    /// One of a user's apps was logged out: its event stream ends.
    DeviceRevoked { device_id: Uuid, user_id: Uuid },
}

impl LoginEvent {
    /// The event as a line of text for the other instances.
    pub(crate) fn encode(&self) -> String {
        match self {
            LoginEvent::Changed { id } => format!("c {id}"),
            LoginEvent::Sent { id, user_id } => format!("s {id} {user_id}"),
            LoginEvent::Closed { id, user_id } => format!("x {id} {user_id}"),
            LoginEvent::DeviceRevoked { device_id, user_id } => {
                format!("d {device_id} {user_id}")
            }
        }
    }

    /// An event [`encode`](Self::encode)d; `None` for anything else.
    pub(crate) fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split(' ');
        let kind = parts.next()?;
        let id = Uuid::parse_str(parts.next()?).ok()?;
        let user = parts.next().map(Uuid::parse_str);
        let event = match (kind, user) {
            ("c", None) => LoginEvent::Changed { id },
            ("s", Some(Ok(user_id))) => LoginEvent::Sent { id, user_id },
            ("x", Some(Ok(user_id))) => LoginEvent::Closed { id, user_id },
            ("d", Some(Ok(user_id))) => LoginEvent::DeviceRevoked {
                device_id: id,
                user_id,
            },
            _ => return None,
        };
        parts.next().is_none().then_some(event)
    }
}

/// The event bus. Slow listeners miss events rather than slowing senders; every stream
/// re-reads state from the store, so a missed event only delays, never loses, an update.
#[derive(Default)]
pub struct Events {
    /// `Changed`, by login request.
    logins: Arc<Channels>,
    /// `Sent` and `Closed`, by user.
    users: Arc<Channels>,
    /// To the other instances, once the relay runs with a database that has them.
    others: OnceLock<mpsc::UnboundedSender<LoginEvent>>,
}

impl Events {
    pub fn send(&self, event: LoginEvent) {
        self.deliver(event);
        if let Some(others) = self.others.get() {
            // The relay stops only with the server.
            let _ = others.send(event);
        }
    }

    /// Sends what [`send`](Self::send) is given to the other instances too, from now on;
    /// false when something already does.
    pub(crate) fn reach_others(&self, others: mpsc::UnboundedSender<LoginEvent>) -> bool {
        self.others.set(others).is_ok()
    }

    /// To this instance's listeners only.
    pub(crate) fn deliver(&self, event: LoginEvent) {
        match event {
            LoginEvent::Changed { id } => self.logins.send(id, event),
            LoginEvent::Sent { user_id, .. }
            | LoginEvent::Closed { user_id, .. }
            | LoginEvent::DeviceRevoked { user_id, .. } => {
                self.users.send(user_id, event);
            }
        }
    }

    /// The changes of one login request.
    pub fn login(&self, id: Uuid) -> Subscription {
        Channels::subscribe(&self.logins, id)
    }

    /// The requests that arrive for, or leave, one user.
    pub fn user(&self, user_id: Uuid) -> Subscription {
        Channels::subscribe(&self.users, user_id)
    }

    /// How many logins and users have listeners (for tests: a closed stream leaves none).
    #[cfg(test)]
    fn listened(&self) -> (usize, usize) {
        (self.logins.len(), self.users.len())
    }
}

/// One broadcast channel per key, made by the first listener and dropped with the last.
#[derive(Default)]
struct Channels(Mutex<HashMap<Uuid, broadcast::Sender<LoginEvent>>>);

/// Events one key receives before a listener that has not read them starts missing some.
const CAPACITY: usize = 16;

impl Channels {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, broadcast::Sender<LoginEvent>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn send(&self, key: Uuid, event: LoginEvent) {
        if let Some(sender) = self.lock().get(&key) {
            // Every listener may have gone between their last read and now: fine.
            let _ = sender.send(event);
        }
    }

    fn subscribe(channels: &Arc<Self>, key: Uuid) -> Subscription {
        let receiver = channels
            .lock()
            .entry(key)
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe();
        Subscription {
            channels: Arc::clone(channels),
            key,
            receiver: Some(receiver),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// A listener of one key; the key's channel goes when its last listener does.
pub struct Subscription {
    channels: Arc<Channels>,
    key: Uuid,
    receiver: Option<broadcast::Receiver<LoginEvent>>,
}

impl Subscription {
    /// The next event; `Lagged` when some were missed (re-read the store).
    pub async fn recv(&mut self) -> Result<LoginEvent, RecvError> {
        match &mut self.receiver {
            Some(receiver) => receiver.recv().await,
            None => Err(RecvError::Closed),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Subscribing and dropping both happen under the lock, so the count is exact.
        let mut map = self.channels.lock();
        drop(self.receiver.take());
        if map
            .get(&self.key)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_cross_to_other_instances_as_they_were() {
        let (id, user_id) = (Uuid::new_v4(), Uuid::new_v4());
        for event in [
            LoginEvent::Changed { id },
            LoginEvent::Sent { id, user_id },
            LoginEvent::Closed { id, user_id },
        ] {
            assert_eq!(LoginEvent::decode(&event.encode()), Some(event));
        }
        for garbage in [
            "",
            "c",
            "c x",
            "s 1 2",
            &format!("c {id} {user_id}"),
            &format!("s {id}"),
            &format!("q {id}"),
        ] {
            assert_eq!(LoginEvent::decode(garbage), None, "{garbage:?}");
        }
    }

    #[tokio::test]
    async fn an_event_reaches_only_the_listeners_of_its_login_or_user() {
        let events = Events::default();
        let (a, b, user) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut on_a = events.login(a);
        let mut on_b = events.login(b);
        let mut on_user = events.user(user);
        events.send(LoginEvent::Changed { id: a });
        events.send(LoginEvent::Sent {
            id: b,
            user_id: user,
        });
        assert_eq!(on_a.recv().await, Ok(LoginEvent::Changed { id: a }));
        assert_eq!(
            on_user.recv().await,
            Ok(LoginEvent::Sent {
                id: b,
                user_id: user
            })
        );
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(20), on_b.recv())
                .await
                .is_err(),
            "nothing happened to b"
        );
    }

    #[tokio::test]
    async fn the_last_listener_to_leave_removes_the_channel() {
        let events = Events::default();
        let id = Uuid::new_v4();
        let first = events.login(id);
        let mut second = events.login(id);
        assert_eq!(events.listened(), (1, 0));
        drop(first);
        assert_eq!(events.listened(), (1, 0), "one listener is left");
        events.send(LoginEvent::Changed { id });
        assert_eq!(second.recv().await, Ok(LoginEvent::Changed { id }));
        drop(second);
        assert_eq!(events.listened(), (0, 0));
        // Nobody listening: sending is fine and keeps nothing.
        events.send(LoginEvent::Changed { id });
        assert_eq!(events.listened(), (0, 0));
    }

    #[tokio::test]
    async fn a_slow_listener_learns_it_missed_events() {
        let events = Events::default();
        let id = Uuid::new_v4();
        let mut slow = events.login(id);
        for _ in 0..CAPACITY + 1 {
            events.send(LoginEvent::Changed { id });
        }
        assert!(matches!(slow.recv().await, Err(RecvError::Lagged(_))));
    }
}
