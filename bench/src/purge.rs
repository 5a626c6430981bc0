//! The expiry purge under a backlog. A fresh SQLite database (Nod's own store) gets `rows`
//! login requests and access tokens that expired more than an hour ago, as an authorize
//! flood leaves them. Once the checkpointer and the kernel have caught up with that (as
//! they would have in the ten minutes it took), a second task writes audit entries, one
//! at a time, and times each write: for two seconds alone, then while `purge_expired`
//! deletes the backlog. The purge takes the writer one batch at a time, so the longest of
//! those writes is the longest any request waited for a batch.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use nod_core::authorize::{AuthorizeRequest, Flow, Prompt, ResponseMode};
use nod_core::grant::AccessToken;
use nod_core::login::LoginRequest;
use nod_core::sales_unit::{AuthMethod, CibaMode, SalesUnit};
use nod_core::scope::ScopeSet;
use nod_core::user::{NewUser, User};
use nod_store::{AuditEvent, Store};
use serde::Serialize;
use uuid::Uuid;

use crate::stats::Summary;

/// A moment in the store's time, seconds (the rows expired two hours before it).
const NOW: i64 = 2_000_000_000;
const CLIENT: &str = "purge-shop";

#[derive(Clone, Debug, Serialize)]
pub(crate) struct PurgeResult {
    /// Expired rows stored before the purge (login requests and tokens together).
    pub(crate) stored: u64,
    /// Rows the purge removed.
    pub(crate) removed: u64,
    /// Seconds the purge took.
    pub(crate) seconds: f64,
    /// The same writes for two seconds before the purge began: what they take without it.
    pub(crate) writes_before: Summary,
    /// Writes made while it ran, each timed: the longest is the longest wait for the writer.
    pub(crate) writes: Summary,
}

/// How long the writes are timed before the purge begins.
const BEFORE: Duration = Duration::from_secs(2);

/// Stores `rows` expired login requests (and an access token for every tenth), then
/// purges them while timing other writes.
pub(crate) async fn measure(dir: &Path, rows: u64) -> anyhow::Result<PurgeResult> {
    let url = format!("sqlite://{}", dir.join("purge.db").display());
    let store = nod_store::connect(&url).await?;
    let user = fill(store.as_ref(), rows).await?;
    let stored = rows + rows.div_ceil(10);
    // The backlog took ten minutes to build up, not the seconds `fill` took: let the
    // checkpointer catch up and the kernel write it out first, as it would have.
    settle().await?;

    let done = Arc::new(AtomicBool::new(false));
    let before = tokio::spawn(probe(store.clone(), user, done.clone()));
    tokio::time::sleep(BEFORE).await;
    done.store(true, Ordering::Relaxed);
    let writes_before = before.await??;

    let done = Arc::new(AtomicBool::new(false));
    let probe = tokio::spawn(probe(store.clone(), user, done.clone()));
    let purge = tokio::spawn({
        let store = store.clone();
        async move {
            let started = Instant::now();
            let removed = store.purge_expired(NOW).await;
            (removed, started.elapsed())
        }
    });
    let (removed, took) = purge.await?;
    done.store(true, Ordering::Relaxed);
    let writes = probe.await??;
    Ok(PurgeResult {
        stored,
        removed: removed?,
        seconds: took.as_secs_f64(),
        writes_before: Summary::of(&writes_before),
        writes: Summary::of(&writes),
    })
}

/// Waits for the checkpointer's next round, then for the kernel to write every dirty page.
async fn settle() -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status =
        tokio::task::spawn_blocking(|| std::process::Command::new("sync").status()).await??;
    anyhow::ensure!(status.success(), "sync: {status}");
    Ok(())
}

/// Writes an audit entry, waits a millisecond, again, until `done`; every write's time.
async fn probe(
    store: Arc<dyn Store>,
    user: Uuid,
    done: Arc<AtomicBool>,
) -> anyhow::Result<Histogram<u64>> {
    let mut writes = Histogram::<u64>::new(3)?;
    while !done.load(Ordering::Relaxed) {
        let started = Instant::now();
        store
            .record_audit(&AuditEvent {
                at: NOW,
                event: "purge_probe",
                user_id: Some(user),
                client_id: Some(CLIENT),
                detail: "",
            })
            .await?;
        writes.record(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX))?;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(writes)
}

/// A sales unit, a person, and the expired rows; the person's id.
async fn fill(store: &dyn Store, rows: u64) -> anyhow::Result<Uuid> {
    store.create_sales_unit(&sales_unit()).await?;
    let mut new = NewUser {
        phone_number: "4790000001".into(),
        given_name: "Purge".into(),
        family_name: "Person".into(),
        email: "purge@example.com".into(),
        birthdate: "1990-01-01".into(),
        nin: String::new(),
        addresses: Vec::new(),
        email_verified: true,
    };
    new.normalize();
    new.validate()?;
    let user = User::new(new, NOW - 86_400);
    store.create_user(&user).await?;
    let expired = NOW - 7_200;
    for i in 0..rows {
        let login = LoginRequest::new(request(), vec![1; 32], "csrf".into(), expired - 300, 300);
        store.create_login_request(&login).await?;
        if i % 10 == 0 {
            let hash = Uuid::new_v4().as_bytes().to_vec();
            store
                .insert_access_token(&token(&hash, user.id, expired))
                .await?;
        }
    }
    Ok(user.id)
}

fn sales_unit() -> SalesUnit {
    SalesUnit {
        client_id: CLIENT.into(),
        secret_hash: vec![7; 32],
        name: "Purge shop".into(),
        redirect_uris: vec!["https://shop.example/cb".into()],
        auth_method: AuthMethod::ClientSecretBasic,
        msn: None,
        allow_nin: false,
        ciba_mode: CibaMode::Poll,
        ciba_notification_endpoint: None,
        webhook_url: None,
        consent_texts: None,
        created_at: NOW - 86_400,
    }
}

fn request() -> AuthorizeRequest {
    AuthorizeRequest {
        client_id: CLIENT.into(),
        redirect_uri: "https://shop.example/cb".into(),
        scopes: ScopeSet::parse("openid name").unwrap_or(ScopeSet::EMPTY),
        state: "state-12345".into(),
        nonce: None,
        code_challenge: None,
        flow: Flow::Web,
        app_callback_uri: None,
        final_redirect_is_app: false,
        acr_app_auth: false,
        prompt: Prompt::Default,
        response_mode: ResponseMode::Query,
    }
}

fn token(hash: &[u8], user_id: Uuid, expires_at: i64) -> AccessToken {
    AccessToken {
        token_hash: hash.to_vec(),
        client_id: CLIENT.into(),
        user_id,
        scopes: ScopeSet::parse("openid name").unwrap_or(ScopeSet::EMPTY),
        sid: Uuid::new_v4(),
        code_hash: None,
        expires_at,
    }
}
