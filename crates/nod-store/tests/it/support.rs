//! The backends every contract test runs against, and the values the tests store.
//!
//! [`each`] runs a test body once per backend, each time on a fresh, empty store:
//! SQLite in a temporary directory always, and PostgreSQL when `NOD_TEST_POSTGRES_URL`
//! names a server (a new database per test is created on it). The bodies see only
//! `Arc<dyn Store>`, so a new backend runs them unchanged.

use std::future::Future;
use std::sync::Arc;

use nod_core::Timestamp;
use nod_core::authorize::{AuthorizeRequest, Flow, Prompt, ResponseMode};
use nod_core::ciba::CibaRequest;
use nod_core::grant::{AccessToken, AuthCode};
use nod_core::login::{Amr, LoginRequest, RememberedBrowser};
use nod_core::sales_unit::{AuthMethod, CibaMode, SalesUnit};
use nod_core::scope::ScopeSet;
use nod_core::user::{NewUser, User};
use nod_store::{AuditEvent, Confirmation, NumberLimits, PhoneDispatch, Store, StoreError};
use uuid::Uuid;

/// The time the tests run at.
pub(crate) const NOW: Timestamp = 1_700_000_000;
/// How long a new login request lives.
pub(crate) const LIFETIME: i64 = 600;
/// The sales unit [`Fixture`] stores.
pub(crate) const CLIENT: &str = "shop";

/// One store to run the contract against, and what keeps it alive.
pub(crate) struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("nod.db").display());
    let store = nod_store::connect(&url).await.expect("SQLite store");
    Backend {
        name: "sqlite",
        store,
        _dir: Some(dir),
    }
}

/// A fresh database on the server `NOD_TEST_POSTGRES_URL` names, if it is set and the
/// store supports PostgreSQL.
async fn postgres() -> Option<Backend> {
    let url = std::env::var("NOD_TEST_POSTGRES_URL").ok()?;
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .expect("NOD_TEST_POSTGRES_URL is set but the server does not answer");
    let name = format!("nod_test_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    // The same server and credentials, the new database.
    let (base, query) = url.split_once('?').unwrap_or((&url, ""));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let server = &base[..base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i)];
    let db_url = format!("{server}/{name}?{query}");
    match nod_store::connect(&db_url).await {
        Ok(store) => Some(Backend {
            name: "postgres",
            store,
            _dir: None,
        }),
        Err(StoreError::UnsupportedUrl(why)) => {
            eprintln!("NOD_TEST_POSTGRES_URL is set, but PostgreSQL is skipped: {why}");
            let _ = sqlx::query(&format!("DROP DATABASE {name}"))
                .execute(&mut admin)
                .await;
            None
        }
        Err(e) => panic!("PostgreSQL store: {e:?}"),
    }
}

/// A fresh store of every backend available.
pub(crate) async fn backends() -> Vec<Backend> {
    let mut all = vec![sqlite().await];
    all.extend(postgres().await);
    all
}

/// Runs `test` once per backend, each on a fresh store.
pub(crate) async fn each<F, Fut>(test: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends().await {
        eprintln!("backend: {}", backend.name);
        test(backend.store.clone()).await;
    }
}

/// Runs `n` tasks at once on the runtime's worker threads, released together by a
/// barrier; their results in order.
pub(crate) async fn race<T, F, Fut>(n: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let start = start.clone();
            let task = task(i);
            tokio::spawn(async move {
                start.wait().await;
                task.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for handle in handles {
        results.push(handle.await.expect("a racing task"));
    }
    results
}

/// Runs two different tasks at once, released together; both results.
pub(crate) async fn race2<A, B>(a: A, b: B) -> (A::Output, B::Output)
where
    A: Future + Send + 'static,
    B: Future + Send + 'static,
    A::Output: Send + 'static,
    B::Output: Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(2));
    let (start_a, start_b) = (start.clone(), start);
    let a = tokio::spawn(async move {
        start_a.wait().await;
        a.await
    });
    let b = tokio::spawn(async move {
        start_b.wait().await;
        b.await
    });
    (a.await.expect("task a"), b.await.expect("task b"))
}

pub(crate) fn sales_unit(client_id: &str) -> SalesUnit {
    SalesUnit {
        client_id: client_id.into(),
        secret_hash: vec![7; 32],
        name: format!("Shop {client_id}"),
        redirect_uris: vec!["https://shop.example/cb".into()],
        auth_method: AuthMethod::ClientSecretBasic,
        msn: Some("123456".into()),
        allow_nin: false,
        ciba_mode: CibaMode::Poll,
        ciba_notification_endpoint: None,
        webhook_url: None,
        consent_texts: None,
        created_at: NOW,
    }
}

pub(crate) fn new_user(phone_number: &str) -> User {
    let u: NewUser = nod_core::demo::demo_users().remove(0);
    User::new(
        NewUser {
            phone_number: phone_number.into(),
            ..u
        },
        NOW,
    )
}

pub(crate) fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).expect("known scopes")
}

/// A browser login request of `client_id`, new, living [`LIFETIME`] from [`NOW`].
pub(crate) fn browser_request(client_id: &str) -> LoginRequest {
    let req = AuthorizeRequest {
        client_id: client_id.into(),
        redirect_uri: "https://shop.example/cb".into(),
        scopes: scopes("openid name email"),
        state: "state".into(),
        nonce: Some("nonce".into()),
        code_challenge: None,
        flow: Flow::Web,
        app_callback_uri: None,
        final_redirect_is_app: false,
        acr_app_auth: false,
        prompt: Prompt::Default,
        response_mode: ResponseMode::Query,
    };
    LoginRequest::new(req, vec![1; 32], "csrf".into(), NOW, LIFETIME)
}

/// A merchant-initiated login request, waiting for `user_id`.
pub(crate) fn ciba_request(client_id: &str, user_id: Uuid) -> LoginRequest {
    CibaRequest {
        phone_number: "4791234501".into(),
        scopes: scopes("openid name"),
        binding_message: Some("ABC".into()),
        expires_in: LIFETIME,
        redirect_uri: None,
        notification_token: None,
        state: None,
        nonce: None,
    }
    .into_login_request(client_id, user_id, NOW)
}

/// At most `pending` waiting, and no limit on how many are sent.
pub(crate) fn pending_limit(pending: i64) -> NumberLimits {
    NumberLimits {
        pending,
        per_window: i64::MAX,
        window: 600,
    }
}

/// What the phone form sends: for `user_id` (or an unknown number), at [`NOW`].
pub(crate) fn dispatch(phone_hash: &[u8], limit: i64, user_id: Option<Uuid>) -> PhoneDispatch<'_> {
    PhoneDispatch {
        phone_hash,
        limits: pending_limit(limit),
        user_id,
        challenge: 42,
        choices: [17, 42, 88],
        remember_browser: true,
        now: NOW,
    }
}

/// A confirmation by `user_id` at [`NOW`], without consent.
pub(crate) fn confirmation(user_id: Uuid, amr: Amr) -> Confirmation<'static> {
    Confirmation {
        user_id,
        amr,
        remember_browser: false,
        now: NOW,
        expires_at: NOW + 300,
        consent: None,
        delegated_answers: None,
        code: None,
        resume_hash: None,
    }
}

/// A code for a login of `user_id` at `client_id`, valid a minute.
pub(crate) fn auth_code(code_hash: &[u8], client_id: &str, user_id: Uuid) -> AuthCode {
    AuthCode {
        code_hash: code_hash.to_vec(),
        client_id: client_id.into(),
        user_id,
        redirect_uri: Some("https://shop.example/cb".into()),
        scopes: scopes("openid name"),
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        sid: Uuid::new_v4(),
        auth_time: NOW,
        amr: Amr::App,
        acr: None,
        auth_req_id: None,
        expires_at: NOW + 60,
    }
}

/// The access token a finished merchant-initiated login `sid` stores (a hash of its own).
pub(crate) fn ciba_token(user_id: Uuid, sid: Uuid) -> AccessToken {
    AccessToken {
        token_hash: Uuid::new_v4().as_bytes().to_vec(),
        client_id: CLIENT.into(),
        user_id,
        scopes: scopes("openid name"),
        sid,
        code_hash: None,
        expires_at: NOW + 300,
    }
}

pub(crate) fn browser(user_id: Uuid, expires_at: Timestamp) -> RememberedBrowser {
    RememberedBrowser {
        id: Uuid::new_v4(),
        user_id,
        label: "Firefox on Linux".into(),
        created_at: NOW,
        last_used_at: NOW,
        expires_at,
    }
}

/// An audit entry to pass along with a move.
pub(crate) fn audit(event: &'static str) -> [AuditEvent<'static>; 1] {
    [AuditEvent {
        at: NOW,
        event,
        user_id: None,
        client_id: Some(CLIENT),
        detail: "contract test",
    }]
}

/// A store with the sales unit [`CLIENT`] and one user.
pub(crate) struct Fixture {
    pub store: Arc<dyn Store>,
    pub user: User,
}

impl Fixture {
    pub(crate) async fn new(store: Arc<dyn Store>) -> Fixture {
        store
            .create_sales_unit(&sales_unit(CLIENT))
            .await
            .expect("create sales unit");
        let user = new_user("4791234501");
        store.create_user(&user).await.expect("create user");
        Fixture { store, user }
    }

    /// Another user.
    pub(crate) async fn user(&self, phone_number: &str) -> User {
        let user = new_user(phone_number);
        self.store.create_user(&user).await.expect("create user");
        user
    }

    /// A stored browser request, `new`.
    pub(crate) async fn new_request(&self) -> LoginRequest {
        let request = browser_request(CLIENT);
        self.store
            .create_login_request(&request)
            .await
            .expect("create login request");
        request
    }

    /// A stored browser request sent to the fixture's user, `waiting`.
    pub(crate) async fn waiting_request(&self) -> LoginRequest {
        let request = self.new_request().await;
        let sent = self
            .store
            .send_login_request(request.id, &dispatch(b"phone", 100, Some(self.user.id)))
            .await
            .expect("send");
        assert!(sent, "send a new request");
        self.get(request.id).await
    }

    /// A stored browser request confirmed in the fixture's user's app.
    pub(crate) async fn confirmed_request(&self) -> LoginRequest {
        let request = self.waiting_request().await;
        let confirmed = self
            .store
            .confirm_login_request(
                request.id,
                &confirmation(self.user.id, Amr::App),
                &audit("confirm"),
            )
            .await
            .expect("confirm");
        assert!(confirmed, "confirm a waiting request");
        self.get(request.id).await
    }

    /// A stored merchant-initiated request, `waiting` for the fixture's user.
    pub(crate) async fn ciba_request(&self) -> LoginRequest {
        let request = ciba_request(CLIENT, self.user.id);
        let created = self
            .store
            .create_ciba_request(&request, b"ciba-phone", pending_limit(100), NOW)
            .await
            .expect("create CIBA request");
        assert!(created, "create a CIBA request under the limit");
        request
    }

    pub(crate) async fn get(&self, id: Uuid) -> LoginRequest {
        self.store
            .get_login_request(id)
            .await
            .expect("get login request")
            .expect("the login request exists")
    }
}
