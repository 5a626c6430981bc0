//! Instances of Nod as processes: the `nod` binary (`nod serve --demo`) started on one
//! database behind the test's balancer, each killable with `SIGKILL`. The binary is the
//! workspace's debug build beside this test binary (`cargo test --workspace` builds it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use super::TestApp;
use super::app::{TestAppBuilder, balance, start_front};

/// `nod serve` processes on one database, behind a balancer.
pub(crate) struct Instances {
    /// At the balancer: what every client uses.
    pub app: Arc<TestApp>,
    /// Each instance's own address (`http://127.0.0.1:{port}`).
    pub direct: Vec<String>,
    /// Each instance on its own, past the balancer (its pages still name the balancer's
    /// address, the public URL).
    pub each: Vec<TestApp>,
    children: Vec<Child>,
    database_url: String,
    addresses: Vec<std::net::SocketAddr>,
    logs: tempfile::TempDir,
}

impl Instances {
    /// The database they share, for `nod` commands.
    pub(crate) fn database_url(&self) -> String {
        self.database_url.clone()
    }

    /// Kills instance `i` (`SIGKILL`: no shutdown, connections cut).
    pub(crate) fn kill(&mut self, i: usize) {
        self.children[i].kill().unwrap();
        self.children[i].wait().unwrap();
    }

    /// Starts instance `i` again, on the same address and database, and waits until it
    /// is ready.
    pub(crate) async fn restart(&mut self, i: usize) {
        let address = self.addresses[i];
        self.children[i] = spawn_nod(
            &self.database_url,
            address,
            &self.app.base,
            &self.logs.path().join(format!("nod-{i}-again.log")),
        );
        wait_ready(&format!("http://{address}")).await;
    }
}

/// `nod serve --demo` on `database`, listening at `address`, with limits raised for the
/// tests' many logins of few people.
fn spawn_nod(
    database: &str,
    address: std::net::SocketAddr,
    base: &str,
    log: &std::path::Path,
) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(nod_binary())
        .args(["--database", database])
        .args(["--listen", &address.to_string()])
        .args(["--public-url", base])
        .args(["--log-format", "json", "serve", "--demo"])
        .args(["--max-pending-per-user", "1000"])
        .args(["--phone-form-per-ip-per-minute", "100000"])
        .args(["--authorize-per-ip-per-minute", "100000"])
        .args(["--max-requests-per-number-per-10-minutes", "100000"])
        .args(["--ciba-start-per-client-per-minute", "100000"])
        // A rotated key reaches every instance within a second.
        .args(["--key-reload-interval", "1"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

impl Drop for Instances {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The `nod` binary: `target/debug/nod` beside `target/debug/deps/it-…`.
pub(crate) fn nod_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let nod = dir.join("nod");
    assert!(
        nod.is_file(),
        "{} is missing: build it first (cargo build -p nod)",
        nod.display()
    );
    nod
}

impl TestAppBuilder {
    /// `count` `nod serve --demo` processes on one fresh database (with what the test
    /// asked for), behind a balancer whose address is every instance's public URL.
    pub(crate) async fn spawn_processes(self, count: usize) -> Instances {
        let (database, store, clock, test_mode) = self.prepare().await;
        assert!(clock.is_none(), "processes run on the real clock");
        assert!(test_mode, "processes run in test mode (--demo)");
        let front = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", front.local_addr().unwrap());
        let logs = tempfile::tempdir().unwrap();
        let mut children = Vec::new();
        let mut addresses = Vec::new();
        for i in 0..count {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let address: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
            let log = logs.path().join(format!("nod-{i}.log"));
            children.push(spawn_nod(&database.url, address, &base, &log));
            // One at a time: each seeds the demo data if it is missing.
            wait_ready(&format!("http://{address}")).await;
            addresses.push(address);
        }
        let served: Arc<Vec<AtomicUsize>> =
            Arc::new(addresses.iter().map(|_| AtomicUsize::new(0)).collect());
        tokio::spawn(balance(front, addresses.clone(), served.clone()));
        let direct: Vec<String> = addresses.iter().map(|a| format!("http://{a}")).collect();
        let each = direct
            .iter()
            .map(|base| start_front(database.clone(), store.clone(), None, base.clone()))
            .collect();
        let database_url = database.url.clone();
        let mut app = start_front(database, store, None, base);
        app.per_request_connections = true;
        app.served = Some(served);
        Instances {
            app: Arc::new(app),
            direct,
            each,
            children,
            database_url,
            addresses,
            logs,
        }
    }
}

/// Waits until an instance answers `/health/ready` with 200.
pub(crate) async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/health/ready")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} never became ready");
}
