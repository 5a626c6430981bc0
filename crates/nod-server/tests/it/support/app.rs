//! `TestApp` and its builder: the real server on `127.0.0.1:0` over a fresh database,
//! with the demo users, the sales units the test asks for and a clock the test moves.
//!
//! The database is a SQLite file in a temporary directory, or, with
//! `NOD_TEST_BACKEND=postgres`, a new database on the PostgreSQL server
//! `NOD_TEST_POSTGRES_URL` names (the README's test command runs the suite both ways).
//! `spawn_processes` (in `processes.rs`) starts `nod serve` processes on one database.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nod_core::Timestamp;
use nod_core::crypto;
use nod_core::partner::Partner;
use nod_core::sales_unit::{AuthMethod, CibaMode, ConsentTexts, SalesUnit};
use nod_server::{App, Clock, ServerConfig, SystemClock, TestClock, paths};
use nod_store::{Delivery, Store};
use reqwest::redirect::Policy;

use super::{
    Browser, CLIENT_ID, CLIENT_SECRET, Merchant, PARTNER_SECRET, Phone, REDIRECT_URI, urlencode,
};

/// Where the fake clock starts: 2027-01-15T08:00:00Z.
pub(crate) const START: i64 = 1_800_000_000;

/// The clock the server reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TestTime {
    /// A fake clock starting here, moved only by [`TestApp::advance`].
    At(i64),
    /// The real clock, for clients that check token times against their own clock and
    /// wait in real time.
    Real,
}

/// A sales unit the test needs. The secret is always [`CLIENT_SECRET`], the redirect URIs
/// are [`REDIRECT_URI`] and `shopapp://callback`, the name is `Shop {client_id}`.
#[derive(Debug, Clone)]
pub(crate) struct SalesUnitSpec {
    pub client_id: &'static str,
    pub auth_method: AuthMethod,
    pub allow_nin: bool,
    pub ciba_mode: CibaMode,
    pub ciba_notification_endpoint: Option<String>,
    pub webhook_url: Option<String>,
    pub consent_texts: Option<ConsentTexts>,
    /// The merchant serial number; `123456` unless the test says otherwise.
    pub msn: Option<&'static str>,
}

impl Default for SalesUnitSpec {
    /// The sales unit `shop`: Basic authentication, allowed the `nin` scope, CIBA by poll.
    fn default() -> Self {
        Self {
            client_id: CLIENT_ID,
            auth_method: AuthMethod::ClientSecretBasic,
            allow_nin: true,
            ciba_mode: CibaMode::Poll,
            ciba_notification_endpoint: None,
            webhook_url: None,
            consent_texts: None,
            msn: Some("123456"),
        }
    }
}

impl SalesUnitSpec {
    /// Another sales unit like `shop`, without the permission for the `nin` scope.
    pub(crate) fn other(client_id: &'static str) -> Self {
        Self {
            client_id,
            allow_nin: false,
            ..Self::default()
        }
    }

    fn to_sales_unit(&self) -> SalesUnit {
        SalesUnit {
            client_id: self.client_id.into(),
            secret_hash: crypto::hash_secret(CLIENT_SECRET).to_vec(),
            name: format!("Shop {}", self.client_id),
            redirect_uris: vec![REDIRECT_URI.into(), "shopapp://callback".into()],
            auth_method: self.auth_method,
            msn: self.msn.map(str::to_owned),
            allow_nin: self.allow_nin,
            ciba_mode: self.ciba_mode,
            ciba_notification_endpoint: self.ciba_notification_endpoint.clone(),
            webhook_url: self.webhook_url.clone(),
            consent_texts: self.consent_texts.clone(),
            created_at: 0,
        }
    }
}

/// A partner (partner keys) the test needs: its client id and the MSNs it may act for.
/// The secret is always [`PARTNER_SECRET`].
#[derive(Debug, Clone)]
pub(crate) struct PartnerSpec {
    pub id: &'static str,
    pub msns: Vec<&'static str>,
}

impl PartnerSpec {
    fn to_partner(&self) -> Partner {
        Partner {
            id: self.id.into(),
            secret_hash: crypto::hash_secret(PARTNER_SECRET).to_vec(),
            name: format!("Partner {}", self.id),
            msns: self.msns.iter().map(|m| (*m).to_owned()).collect(),
            created_at: 0,
        }
        .normalize()
        .unwrap()
    }
}

/// How a [`TestApp`] starts; see [`TestApp::builder`].
pub(crate) struct TestAppBuilder {
    time: TestTime,
    test_mode: bool,
    sales_units: Vec<SalesUnitSpec>,
    partners: Vec<PartnerSpec>,
    held: Vec<(Delivery, Timestamp)>,
    postgres: bool,
    public_url: Option<String>,
    configure: Vec<fn(&mut ServerConfig)>,
}

impl TestAppBuilder {
    /// On PostgreSQL whatever `NOD_TEST_BACKEND` says; `None` (the test skips, saying so)
    /// when `NOD_TEST_POSTGRES_URL` names no server.
    pub(crate) fn on_postgres(mut self) -> Option<Self> {
        if std::env::var_os("NOD_TEST_POSTGRES_URL").is_none() {
            eprintln!("skipped: NOD_TEST_POSTGRES_URL names no PostgreSQL server");
            return None;
        }
        self.postgres = true;
        Some(self)
    }

    /// A delivery in the outbox that another instance claimed before it died: held
    /// until `until` (the real clock's time).
    pub(crate) fn with_held_delivery(mut self, delivery: Delivery, until: Timestamp) -> Self {
        self.held.push((delivery, until));
        self
    }

    /// The clock; by default a fake one at [`START`].
    pub(crate) fn clock(mut self, time: TestTime) -> Self {
        self.time = time;
        self
    }

    /// Test mode (devices register without an activation code, the demo shop and the test
    /// app exist); on by default.
    pub(crate) fn test_mode(mut self, on: bool) -> Self {
        self.test_mode = on;
        self
    }

    /// Adds a sales unit, or replaces the one with the same client id (the default `shop`).
    pub(crate) fn with_sales_unit(mut self, spec: SalesUnitSpec) -> Self {
        self.sales_units.retain(|s| s.client_id != spec.client_id);
        self.sales_units.push(spec);
        self
    }

    /// Adds a partner.
    pub(crate) fn with_partner(mut self, spec: PartnerSpec) -> Self {
        self.partners.push(spec);
        self
    }

    /// Changes the server's configuration (a limit, a lifetime) before it starts.
    pub(crate) fn configure(mut self, change: fn(&mut ServerConfig)) -> Self {
        self.configure.push(change);
        self
    }

    pub(crate) async fn spawn(self) -> TestApp {
        let public_url = self.public_url.clone();
        let configure = self.configure.clone();
        let (database, store, clock, test_mode) = self.prepare().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let public_url = public_url.unwrap_or_else(|| base.clone());
        start(
            database, store, clock, test_mode, listener, base, public_url, &configure,
        )
        .await
    }

    /// The public URL the server names (its issuer, and what its cookies are for), when
    /// it is not the address the test reaches it at: `https://…` for `Secure` cookies.
    pub(crate) fn public_url(mut self, url: &str) -> Self {
        self.public_url = Some(url.to_owned());
        self
    }

    /// The database with what the test asked for, and the clock.
    pub(super) async fn prepare(
        self,
    ) -> (
        Arc<TestDatabase>,
        Arc<dyn Store>,
        Option<Arc<TestClock>>,
        bool,
    ) {
        let database = if self.postgres {
            TestDatabase::postgres().await
        } else {
            TestDatabase::fresh().await
        };
        let store = nod_store::connect(&database.url).await.unwrap();
        let users = nod_core::demo::seed_users(0);
        store.import_users(&users).await.unwrap();
        for spec in &self.sales_units {
            store
                .create_sales_unit(&spec.to_sales_unit())
                .await
                .unwrap();
        }
        for spec in &self.partners {
            store.create_partner(&spec.to_partner()).await.unwrap();
        }
        for (delivery, until) in &self.held {
            store.enqueue_delivery(delivery).await.unwrap();
            let claimed = store
                .claim_deliveries(delivery.due_at, *until, 1)
                .await
                .unwrap();
            assert_eq!(claimed.len(), 1, "the held delivery was not claimed");
        }
        let clock = match self.time {
            TestTime::At(start) => Some(Arc::new(TestClock::new(start))),
            TestTime::Real => None,
        };
        (Arc::new(database), store, clock, self.test_mode)
    }
}

/// Hands each connection accepted on `front` to the next of `backends`, in turn,
/// counting them in `served`.
pub(super) async fn balance(
    front: tokio::net::TcpListener,
    backends: Vec<std::net::SocketAddr>,
    served: Arc<Vec<AtomicUsize>>,
) {
    for turn in 0.. {
        let Ok((mut inbound, _)) = front.accept().await else {
            return;
        };
        let backends = backends.clone();
        let served = served.clone();
        tokio::spawn(async move {
            // An instance that does not answer is skipped, as a load balancer's health
            // check would.
            for next in 0..backends.len() {
                let i = (turn + next) % backends.len();
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(backends[i]).await {
                    served[i].fetch_add(1, Ordering::Relaxed);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    return;
                }
            }
        });
    }
}

/// The [`TestApp`] of a server started elsewhere, at `base`.
pub(super) fn start_front(
    database: Arc<TestDatabase>,
    store: Arc<dyn Store>,
    clock: Option<Arc<TestClock>>,
    base: String,
) -> TestApp {
    TestApp {
        base,
        store,
        clock,
        _database: database,
        per_request_connections: false,
        served: None,
    }
}

/// Starts a server on `store` (whose database `database` keeps), listening on
/// `listener`, its public URL `base`.
#[expect(
    clippy::too_many_arguments,
    reason = "every part of a test server, named where it is started"
)]
async fn start(
    database: Arc<TestDatabase>,
    store: Arc<dyn Store>,
    clock: Option<Arc<TestClock>>,
    test_mode: bool,
    listener: tokio::net::TcpListener,
    base: String,
    public_url: String,
    configure: &[fn(&mut ServerConfig)],
) -> TestApp {
    let mut config = ServerConfig {
        public_url,
        test_mode,
        ..ServerConfig::default()
    };
    for change in configure {
        change(&mut config);
    }
    let app_clock: Arc<dyn Clock> = match &clock {
        Some(clock) => clock.clone(),
        None => Arc::new(SystemClock),
    };
    let app = App::new(config, store.clone(), app_clock).await.unwrap();
    tokio::spawn(nod_server::serve(listener, app, std::future::pending()));
    start_front(database, store, clock, base)
}

/// The database of a [`TestApp`] (and of its other instances), dropped with the last.
pub(crate) struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A fresh database of the backend `NOD_TEST_BACKEND` names (`sqlite` by default).
    async fn fresh() -> Self {
        match std::env::var("NOD_TEST_BACKEND").as_deref() {
            Ok("postgres") => Self::postgres().await,
            Ok("sqlite") | Err(_) => Self::sqlite(),
            Ok(other) => panic!("NOD_TEST_BACKEND={other}: expected sqlite or postgres"),
        }
    }

    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            url: format!("sqlite://{}", dir.path().join("nod.db").display()),
            _dir: Some(dir),
        }
    }

    /// A new database on the server `NOD_TEST_POSTGRES_URL` names.
    pub(crate) async fn postgres() -> Self {
        use sqlx::Connection as _;
        let server = std::env::var("NOD_TEST_POSTGRES_URL")
            .expect("NOD_TEST_BACKEND=postgres needs NOD_TEST_POSTGRES_URL");
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .expect("NOD_TEST_POSTGRES_URL does not answer");
        let name = format!("nod_it_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        let url = url::Url::parse(&server).expect("NOD_TEST_POSTGRES_URL is a URL");
        let mut url = url.clone();
        url.set_path(&name);
        Self {
            url: url.to_string(),
            _dir: None,
        }
    }
}

/// A running Nod.
pub(crate) struct TestApp {
    /// `http://127.0.0.1:{port}`, without a trailing slash.
    pub base: String,
    /// The database behind the server, for setting up what has no HTTP API.
    pub store: Arc<dyn Store>,
    clock: Option<Arc<TestClock>>,
    /// Kept for the server's lifetime (a SQLite file's directory goes with it).
    _database: Arc<TestDatabase>,
    /// Every request on a connection of its own (behind [`TestAppBuilder::spawn_balanced`]).
    pub(super) per_request_connections: bool,
    /// Behind the balancer: the connections each instance was handed.
    pub(super) served: Option<Arc<Vec<AtomicUsize>>>,
}

impl TestApp {
    /// Behind [`TestAppBuilder::spawn_balanced`]: the connections each instance served.
    pub(crate) fn served(&self) -> Vec<usize> {
        self.served
            .as_ref()
            .expect("not behind the balancer")
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }

    /// By default: test mode, the demo users, the sales unit `shop`, a fake clock at
    /// [`START`].
    pub(crate) fn builder() -> TestAppBuilder {
        TestAppBuilder {
            time: TestTime::At(START),
            test_mode: true,
            sales_units: vec![SalesUnitSpec::default()],
            partners: Vec::new(),
            held: Vec::new(),
            postgres: false,
            public_url: None,
            configure: Vec::new(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The issuer identifier, with the trailing slash the compatible API has.
    pub(crate) fn issuer(&self) -> String {
        self.url(paths::ISSUER_PATH)
    }

    /// Another instance: a server of its own (its own connection to the database, its own
    /// keys in memory) on this one's database and clock, in test mode, configured with
    /// `configure`.
    pub(crate) async fn another_instance(&self, configure: &[fn(&mut ServerConfig)]) -> TestApp {
        let store = nod_store::connect(&self._database.url).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        start(
            self._database.clone(),
            store,
            self.clock.clone(),
            true,
            listener,
            base.clone(),
            base,
            configure,
        )
        .await
    }

    /// Moves the fake clock on.
    /// The URL of the database behind the server.
    pub(crate) fn database_url(&self) -> &str {
        &self._database.url
    }

    pub(crate) fn advance(&self, seconds: i64) {
        self.clock
            .as_ref()
            .expect("this app runs on the real clock")
            .advance(seconds);
    }

    /// A plain HTTP client that does not follow redirects, for requests no actor makes.
    pub(crate) fn client(&self) -> reqwest::Client {
        client(self.client_builder())
    }

    fn client_builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder();
        if self.per_request_connections {
            builder.pool_max_idle_per_host(0)
        } else {
            builder
        }
    }

    /// A browser that keeps cookies.
    pub(crate) fn browser(&self) -> Browser {
        self.browser_with(&[])
    }

    /// A browser that sends these headers with every request (`user-agent`,
    /// `accept-language`).
    pub(crate) fn browser_with(&self, headers: &[(&str, &str)]) -> Browser {
        let headers = headers
            .iter()
            .map(|(name, value)| (name.parse().unwrap(), value.parse().unwrap()))
            .collect();
        let client = client(
            self.client_builder()
                .cookie_store(true)
                .default_headers(headers),
        );
        Browser::new(&self.base, client)
    }

    /// An app registered for this phone number.
    pub(crate) async fn phone(&self, number: &str) -> Phone {
        let response = self
            .unregistered_phone()
            .register(serde_json::json!({ "phone_number": number }))
            .await;
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        let token = body["device_token"].as_str().unwrap();
        Phone::new(&self.base, self.client(), Some(number), Some(token))
    }

    /// An app that has not registered: it sends no device token.
    pub(crate) fn unregistered_phone(&self) -> Phone {
        Phone::new(&self.base, self.client(), None, None)
    }

    /// An app that sends this device token.
    pub(crate) fn phone_with_token(&self, token: &str) -> Phone {
        Phone::new(&self.base, self.client(), None, Some(token))
    }

    /// The merchant behind the sales unit `shop`, with Basic authentication.
    pub(crate) fn merchant(&self) -> Merchant {
        self.merchant_as(CLIENT_ID)
    }

    /// The merchant behind another sales unit, with Basic authentication.
    pub(crate) fn merchant_as(&self, client_id: &str) -> Merchant {
        Merchant::new(&self.base, self.client(), client_id, CLIENT_SECRET)
    }

    /// A partner's own calls (the access token API), with [`PARTNER_SECRET`].
    pub(crate) fn partner(&self, id: &str) -> Merchant {
        Merchant::new(&self.base, self.client(), id, PARTNER_SECRET)
    }

    /// The authorization URL of `shop` with `scope=openid name` and a state, then `extra`.
    pub(crate) fn authorize_url(&self, extra: &str) -> String {
        authorize_url(&self.base, CLIENT_ID, REDIRECT_URI, "openid name", extra)
    }

    /// The authorization URL for another client, redirect URI or scope.
    pub(crate) fn authorize_url_for(
        &self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        extra: &str,
    ) -> String {
        authorize_url(&self.base, client_id, redirect_uri, scope, extra)
    }
}

pub(super) fn authorize_url(
    base: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    extra: &str,
) -> String {
    format!(
        "{base}{}?response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state=state-12345{extra}",
        paths::AUTHORIZE,
        urlencode(redirect_uri),
        scope.replace(' ', "%20"),
    )
}

fn client(builder: reqwest::ClientBuilder) -> reqwest::Client {
    builder
        .redirect(Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}
