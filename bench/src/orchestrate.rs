//! `nod-bench run`: starts Nod (on a fresh SQLite database, with people for the virtual
//! users) and the peer on 127.0.0.1, runs every scenario, writes the figures and stops
//! both servers, also when something fails.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;

use crate::http::{Call, Conn};
use crate::load::{self, Load, Model, RunResult};
use crate::purge::PurgeResult;
use crate::report::{
    self, Machine, PostgresResult, PostgresSection, Report, UsersComparison, UsersSize,
};
use crate::scale;
use crate::scale::{PendingResult, WaitingResult};
use crate::scenario::{Flavor, Scenario, Shared, Target};
use crate::sign;

#[derive(Clone, Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Seconds of load per scenario instead of minutes: for CI.
    #[arg(long)]
    pub(crate) smoke: bool,
    /// The `nod` binary to start.
    #[arg(long, default_value = "target/release/nod")]
    pub(crate) nod: PathBuf,
    /// The peer's directory (`server.mjs`, with its npm packages installed).
    #[arg(long, default_value = "bench/peer")]
    pub(crate) peer_dir: PathBuf,
    /// Node.js.
    #[arg(long, default_value = "node")]
    pub(crate) node: String,
    /// Where results.json, results.md and chart.svg go.
    #[arg(long, default_value = "bench/results")]
    pub(crate) out: PathBuf,
    /// Measured seconds of each run (default 10; 1 with --smoke).
    #[arg(long)]
    pub(crate) seconds: Option<f64>,
    /// Warm-up seconds before each measured window (default 2; 0.3 with --smoke).
    #[arg(long)]
    pub(crate) warmup: Option<f64>,
    /// Rounds of the Nod/peer comparison (default 3; 1 with --smoke).
    #[arg(long)]
    pub(crate) rounds: Option<usize>,
    /// Logins started per second in the open-loop authorize flood (default 400; 50 with
    /// --smoke).
    #[arg(long)]
    pub(crate) flood_rate: Option<f64>,
    /// Nod's port; the peer listens on the next one. Default: two free ports.
    #[arg(long)]
    pub(crate) port: Option<u16>,
    /// Browsers kept on the waiting page, then approved one by one (default 1000; 20 with
    /// --smoke).
    #[arg(long)]
    pub(crate) waiting: Option<usize>,
    /// Approvals per second of the waiting browsers.
    #[arg(long, default_value_t = 200.0)]
    pub(crate) approval_rate: f64,
    /// Pending login requests created on a fresh Nod for its memory (default 100000; 500
    /// with --smoke).
    #[arg(long)]
    pub(crate) pending: Option<u64>,
    /// Expired login requests the purge measurement starts from (default 240000, what an
    /// authorize flood of 400/s leaves in the ten minutes between purges; 5000 with
    /// --smoke).
    #[arg(long)]
    pub(crate) purge_rows: Option<u64>,
    /// Generated users in the small database of the users comparison.
    #[arg(long, default_value_t = 1000)]
    pub(crate) small_users: u32,
    /// Generated users in the large database (default 1000000; 5000 with --smoke).
    #[arg(long)]
    pub(crate) large_users: Option<u32>,
    /// A PostgreSQL server (`postgres://user@host:port/db`, on this machine for its CPU
    /// time): after the other sections, `remembered` and `ciba` on one Nod and on two Nods
    /// sharing a fresh database there. Without it, and without NOD_TEST_POSTGRES_URL in
    /// --smoke, that section is skipped.
    #[arg(long)]
    pub(crate) postgres: Option<String>,
    /// Only this section (the RS256 figure is always measured).
    #[arg(long, value_enum)]
    pub(crate) only: Option<Section>,
}

/// A section `--only` can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Section {
    Postgres,
}

/// People imported into Nod for the virtual users: the remembered browser's person first.
const PEOPLE: usize = 200;
const FIRST_PHONE: u64 = 4_798_000_000;

/// People of the waiting browsers, one each: +47 97000000 and on.
const FIRST_WAITING_PHONE: u64 = 4_797_000_000;

pub(crate) fn phones() -> Vec<String> {
    (0..PEOPLE as u64)
        .map(|i| (FIRST_PHONE + i).to_string())
        .collect()
}

fn waiting_phones(count: usize) -> Vec<String> {
    (0..count as u64)
        .map(|i| (FIRST_WAITING_PHONE + i).to_string())
        .collect()
}

fn people_json(phones: &[String]) -> serde_json::Value {
    let people: Vec<_> = phones
        .iter()
        .enumerate()
        .map(|(i, phone)| {
            json!({
                "phone_number": phone,
                "given_name": "Bench",
                "family_name": format!("Person {i}"),
                "email": format!("bench.person.{i}@example.com"),
                "birthdate": "1990-01-01",
                "nin": "",
                "addresses": [{
                    "street_address": "Storgata 1",
                    "postal_code": "0155",
                    "region": "Oslo",
                    "country": "NO",
                    "address_type": "home"
                }]
            })
        })
        .collect();
    serde_json::Value::Array(people)
}

/// A child process stopped when this is dropped.
struct Server {
    name: &'static str,
    child: Child,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped {}", self.name);
    }
}

/// A temporary directory removed when this is dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two ports nothing listens on now (other servers on this machine may hold the usual
/// ones). Both are bound at once, so they differ.
fn free_ports() -> anyhow::Result<(u16, u16)> {
    let a = std::net::TcpListener::bind("127.0.0.1:0")?;
    let b = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// Waits until `path` answers 2xx with `expect` in its body, and checks that the answer
/// came from this child (it still runs: it did not exit on a port somebody else holds).
async fn wait_ready(
    server: &mut Server,
    addr: SocketAddr,
    path: &str,
    expect: &str,
) -> anyhow::Result<()> {
    let mut conn = Conn::new(addr);
    for _ in 0..200 {
        if let Some(status) = server.child.try_wait()? {
            bail!("{} exited at start ({status})", server.name);
        }
        if let Ok(r) = conn.send(Call::get(path), None).await
            && r.status.is_success()
            && r.text().contains(expect)
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "{} exited at start ({status}); is {addr} taken?",
                    server.name
                );
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{} not ready after 20 s", server.name)
}

/// Starts Nod on a fresh database in `dir`: `generate` users made by `nod user generate`
/// first (answers how long that took), then the harness's people and `extra` imported.
fn start_nod(
    args: &RunArgs,
    dir: &Path,
    addr: SocketAddr,
    generate: Option<u32>,
    extra: &[String],
) -> anyhow::Result<(Server, Option<f64>)> {
    std::fs::create_dir_all(dir)?;
    let database = format!("sqlite://{}", dir.join("nod.db").display());
    let generation_s = prepare_database(args, &database, dir, generate, extra)?;
    let server = spawn_nod(args, &database, dir, "nod", addr, addr)?;
    Ok((server, generation_s))
}

/// Fills a fresh database: `generate` users made by `nod user generate` first (answers how
/// long that took), then the harness's people and `extra` imported.
fn prepare_database(
    args: &RunArgs,
    database: &str,
    dir: &Path,
    generate: Option<u32>,
    extra: &[String],
) -> anyhow::Result<Option<f64>> {
    let generation_s = match generate {
        Some(count) => {
            let started = std::time::Instant::now();
            let out = Command::new(&args.nod)
                .args(["--database", database, "user", "generate", "--count"])
                .arg(count.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .with_context(|| format!("running {}", args.nod.display()))?;
            if !out.status.success() {
                bail!(
                    "nod user generate: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            let seconds = started.elapsed().as_secs_f64();
            eprintln!("generated {count} users in {seconds:.1} s");
            Some(seconds)
        }
        None => None,
    };
    let people = dir.join("people.json");
    let mut all = phones();
    all.extend_from_slice(extra);
    std::fs::write(&people, people_json(&all).to_string())?;
    let import = Command::new(&args.nod)
        .args(["--database", database, "user", "import"])
        .arg(&people)
        .output()
        .with_context(|| format!("running {}", args.nod.display()))?;
    if !import.status.success() {
        bail!(
            "nod user import: {}",
            String::from_utf8_lossy(&import.stderr)
        );
    }
    Ok(generation_s)
}

/// `nod serve --demo` on `database`, listening on `addr`, its public URL at `public` (the
/// first instance's address when there are several), logging to `dir/<name>.log`.
fn spawn_nod(
    args: &RunArgs,
    database: &str,
    dir: &Path,
    name: &'static str,
    addr: SocketAddr,
    public: SocketAddr,
) -> anyhow::Result<Server> {
    let log = std::fs::File::create(dir.join(format!("{name}.log")))?;
    let child = Command::new(&args.nod)
        .args(["--database", database])
        .args(["--listen", &addr.to_string()])
        .args(["--public-url", &format!("http://{public}")])
        .args(["--log-format", "json", "serve", "--demo"])
        // The generator is one address logging many people in, with many logins at once
        // for each in the authorize flood, for one sales unit; the defaults are
        // push-bombing and flood defences.
        .args(["--max-pending-per-user", "100000"])
        .args(["--phone-form-per-ip-per-minute", "100000000"])
        .args(["--authorize-per-ip-per-minute", "100000000"])
        .args(["--ciba-start-per-client-per-minute", "100000000"])
        .args(["--max-requests-per-number-per-10-minutes", "100000000"])
        .args(["--access-token-lifetime", "3600"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", args.nod.display()))?;
    Ok(Server { name, child })
}

fn start_peer(args: &RunArgs, dir: &Path, addr: SocketAddr) -> anyhow::Result<Server> {
    let log = std::fs::File::create(dir.join("peer.log"))?;
    let child = Command::new(&args.node)
        .arg(args.peer_dir.join("server.mjs"))
        .env("PORT", addr.port().to_string())
        .env("NODE_ENV", "production")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {} {}", args.node, args.peer_dir.display()))?;
    Ok(Server {
        name: "peer",
        child,
    })
}

struct Plan {
    seconds: f64,
    warmup: f64,
    rounds: usize,
    levels: Vec<usize>,
    flood_rate: f64,
}

async fn one_run(
    target: &Target,
    pids: &[u32],
    database_pid: Option<u32>,
    scenario: Scenario,
    model: Model,
    plan: &Plan,
) -> anyhow::Result<RunResult> {
    let phones = phones();
    let mut shared = Shared::new(target.clone(), scenario, phones[1..].to_vec());
    shared.prepare(&phones[0]).await?;
    let load = Load {
        model,
        warmup: Duration::from_secs_f64(plan.warmup),
        duration: Duration::from_secs_f64(plan.seconds),
        server_pids: pids.to_vec(),
        database_pid,
    };
    let result = load::run(Arc::new(shared), load).await?;
    eprintln!(
        "{:>4} {:<15} {:<10} {:>8.0} logins/s  p50 {:>7.2} ms  p99 {:>7.2} ms  CPU {:>6} ms/login{}  failed {}",
        result.target,
        result.scenario,
        match model {
            Model::Closed { vus } => format!("{vus} VUs"),
            Model::Open { rate, .. } => format!("{rate}/s"),
        },
        result.logins_per_s,
        result.login.p50_ms,
        result.login.p99_ms,
        result
            .server_cpu_ms_per_login
            .map_or_else(|| "–".into(), |c| format!("{c:.3}")),
        result
            .database_cpu_ms_per_login
            .map_or_else(String::new, |c| format!(" (+ PostgreSQL {c:.3})")),
        result.all_failed(),
    );
    Ok(result)
}

/// What the SQLite sections measured.
#[derive(Default)]
struct Sections {
    runs: Vec<RunResult>,
    waiting: Option<WaitingResult>,
    pending: Option<PendingResult>,
    users: Option<UsersComparison>,
    purge: Option<PurgeResult>,
}

/// Every section on SQLite: Nod against the peer, the scenarios, the waiting browsers, the
/// pending requests' memory, the users comparison and the purge.
async fn sqlite_sections(args: &RunArgs, plan: &Plan, dir: &TempDir) -> anyhow::Result<Sections> {
    let (nod_port, peer_port) = match args.port {
        Some(p) => (p, p + 1),
        None => free_ports()?,
    };
    let nod_addr: SocketAddr = ([127, 0, 0, 1], nod_port).into();
    let peer_addr: SocketAddr = ([127, 0, 0, 1], peer_port).into();
    let waiting_people = waiting_phones(args.waiting.unwrap_or(if args.smoke { 20 } else { 1000 }));
    let (mut nod, _) = start_nod(args, &dir.0, nod_addr, None, &waiting_people)?;
    let mut peer = start_peer(args, &dir.0, peer_addr)?;
    wait_ready(&mut nod, nod_addr, DISCOVERY, &issuer(nod_addr)).await?;
    let peer_issuer = format!("\"issuer\":\"http://{peer_addr}\"");
    wait_ready(
        &mut peer,
        peer_addr,
        "/.well-known/openid-configuration",
        &peer_issuer,
    )
    .await?;
    let nod_target = Target::new(Flavor::Nod, nod_addr)?;
    let peer_target = Target::new(Flavor::Peer, peer_addr)?;
    let both = [(&nod_target, nod.pid()), (&peer_target, peer.pid())];

    let mut runs = Vec::new();
    for round in 0..plan.rounds {
        for &vus in &plan.levels {
            // Alternate who goes first, so neither always runs on a warmer machine.
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                let (target, pid) = both[i];
                let model = Model::Closed { vus };
                runs.push(one_run(target, &[pid], None, Scenario::Remembered, model, plan).await?);
            }
        }
    }
    for scenario in [Scenario::Desktop, Scenario::Ciba] {
        for &vus in &plan.levels {
            let model = Model::Closed { vus };
            runs.push(one_run(&nod_target, &[nod.pid()], None, scenario, model, plan).await?);
        }
    }
    for (target, pid) in both {
        let model = Model::Open {
            rate: plan.flood_rate,
            max_connections: 256,
        };
        runs.push(one_run(target, &[pid], None, Scenario::AuthorizeFlood, model, plan).await?);
    }
    drop(peer);
    // On the run's Nod, after the scenarios: their pending requests are answered or few.
    let waiting = scale::waiting(
        &nod_target,
        Some(nod.pid()),
        &waiting_people,
        args.approval_rate,
    )
    .await?;
    drop(nod);

    // A fresh Nod for the memory of pending requests.
    let pending_count = args
        .pending
        .unwrap_or(if args.smoke { 500 } else { 100_000 });
    let pending = {
        let (port, _) = free_ports()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let (mut server, _) = start_nod(args, &dir.0.join("pending"), addr, None, &[])?;
        wait_ready(&mut server, addr, DISCOVERY, &issuer(addr)).await?;
        let target = Target::new(Flavor::Nod, addr)?;
        scale::pending_memory(&target, server.pid(), pending_count, 8).await?
    };

    let large = args
        .large_users
        .unwrap_or(if args.smoke { 5_000 } else { 1_000_000 });
    let mut sizes = Vec::new();
    for users in [args.small_users, large] {
        sizes.push(with_users(args, &dir.0, users, plan).await?);
    }
    let users = UsersComparison::of(sizes);

    let purge_rows = args
        .purge_rows
        .unwrap_or(if args.smoke { 5_000 } else { 240_000 });
    let purge = crate::purge::measure(&dir.0, purge_rows).await?;
    eprintln!(
        "purge: {} of {} expired rows in {:.1} s; writes before: p99 {:.2} ms, max {:.2} ms; \
         meanwhile: p99 {:.2} ms, max {:.2} ms",
        purge.removed,
        purge.stored,
        purge.seconds,
        purge.writes_before.p99_ms,
        purge.writes_before.max_ms,
        purge.writes.p99_ms,
        purge.writes.max_ms
    );

    Ok(Sections {
        runs,
        waiting: Some(waiting),
        pending: Some(pending),
        users: Some(users),
        purge: Some(purge),
    })
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<()> {
    let plan = Plan {
        seconds: args.seconds.unwrap_or(if args.smoke { 1.0 } else { 10.0 }),
        warmup: args.warmup.unwrap_or(if args.smoke { 0.3 } else { 2.0 }),
        rounds: args.rounds.unwrap_or(if args.smoke { 1 } else { 3 }),
        levels: if args.smoke { vec![4] } else { vec![4, 16] },
        flood_rate: args
            .flood_rate
            .unwrap_or(if args.smoke { 50.0 } else { 400.0 }),
    };
    let machine = Machine::detect();
    let load_average_before = report::load_average();
    let sign_time = Duration::from_secs_f64(if args.smoke { 0.3 } else { 2.0 });
    let sign = tokio::task::spawn_blocking(move || sign::measure(sign_time)).await??;
    eprintln!(
        "RS256 on one core: {:.0} signatures/s, {:.3} ms each",
        sign.per_second, sign.ms_per_signature
    );

    let dir = TempDir(std::env::temp_dir().join(format!("nod-bench-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0)?;
    let sections = if args.only == Some(Section::Postgres) {
        eprintln!("--only postgres: the SQLite sections skipped");
        Sections::default()
    } else {
        sqlite_sections(&args, &plan, &dir).await?
    };
    let postgres_url = args.postgres.clone().or_else(|| {
        args.smoke
            .then(|| std::env::var("NOD_TEST_POSTGRES_URL").ok())
            .flatten()
            .filter(|u| !u.is_empty())
    });
    let postgres = match postgres_url {
        Some(url) => {
            PostgresSection::Measured(postgres_sections(&args, &plan, &dir.0, &url).await?)
        }
        None if args.only == Some(Section::Postgres) => {
            bail!("--only postgres needs --postgres URL")
        }
        None => {
            let why = if args.smoke {
                "no --postgres URL and no NOD_TEST_POSTGRES_URL"
            } else {
                "no --postgres URL"
            };
            eprintln!("PostgreSQL sections skipped: {why}");
            PostgresSection::Skipped(why.into())
        }
    };

    let report = Report {
        generated_unix: unix_now(),
        smoke: args.smoke,
        machine,
        load_average_before,
        load_average_after: report::load_average(),
        sign,
        comparisons: report::compare(&sections.runs, Scenario::Remembered.name()),
        runs: sections.runs,
        waiting: sections.waiting,
        pending: sections.pending,
        users: sections.users,
        purge: sections.purge,
        postgres,
    };
    std::fs::create_dir_all(&args.out)?;
    let markdown = report::markdown(&report);
    std::fs::write(
        args.out.join("results.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(args.out.join("results.md"), &markdown)?;
    std::fs::write(args.out.join("chart.svg"), report::svg(&report))?;
    println!("{markdown}");
    eprintln!("written to {}", args.out.display());

    let postgres_runs = match &report.postgres {
        PostgresSection::Measured(p) => &p.runs[..],
        PostgresSection::Skipped(_) => &[],
    };
    let failed: u64 = report
        .runs
        .iter()
        .chain(postgres_runs)
        .map(RunResult::all_failed)
        .sum();
    if failed > 0 {
        bail!("{failed} logins failed");
    }
    let empty: Vec<String> = report
        .runs
        .iter()
        .chain(postgres_runs)
        .filter(|r| r.completed == 0)
        .map(|r| format!("{} {}", r.target, r.scenario))
        .collect();
    if !empty.is_empty() {
        bail!("no login completed in: {}", empty.join(", "));
    }
    if let Some(w) = &report.waiting
        && (w.errors.count > 0 || w.latency.count == 0)
    {
        bail!(
            "waiting browsers: {} errors, {} continued",
            w.errors.count,
            w.latency.count
        );
    }
    if let Some(p) = &report.purge
        && (p.removed != p.stored || p.writes.count == 0)
    {
        bail!(
            "purge: {} of {} rows removed, {} writes timed",
            p.removed,
            p.stored,
            p.writes.count
        );
    }
    if let Some(p) = &report.pending
        && (p.failed > 0 || p.pending == 0)
    {
        bail!(
            "pending requests: {} failed, {} created",
            p.failed,
            p.pending
        );
    }
    if let Some(u) = &report.users {
        let failed: u64 = u
            .sizes
            .iter()
            .flat_map(|s| &s.runs)
            .map(RunResult::all_failed)
            .sum();
        if failed > 0 {
            bail!("{failed} logins failed in the users comparison");
        }
    }
    Ok(())
}

/// `remembered` and `ciba` on PostgreSQL at `url`: one Nod on a fresh database, then two
/// Nods sharing another fresh one, every virtual user's requests spread over both.
async fn postgres_sections(
    args: &RunArgs,
    plan: &Plan,
    dir: &Path,
    url: &str,
) -> anyhow::Result<PostgresResult> {
    let mut admin = crate::postgres::Admin::connect(url).await?;
    let settings = admin.settings().await?;
    eprintln!(
        "PostgreSQL: {}",
        settings
            .iter()
            .map(|(name, value)| format!("{name} {value}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (postmaster, database_cpu_missing) = match admin.postmaster().await {
        Ok(pid) => (Some(pid), None),
        Err(e) => {
            eprintln!("PostgreSQL's CPU time not measured: {e:#}");
            (None, Some(format!("{e:#}")))
        }
    };
    let mut runs = Vec::new();
    for instances in [1, 2] {
        let name = format!("nodbench_{}_{instances}", std::process::id());
        let database = admin.fresh_database(&name).await?;
        let dir = dir.join(format!("postgres-{instances}"));
        std::fs::create_dir_all(&dir)?;
        // The servers are stopped when this returns, before their database is dropped.
        let result = on_instances(args, plan, &dir, &database, instances, postmaster).await;
        let dropped = admin.drop_database(&name).await;
        runs.extend(result?);
        dropped?;
    }
    Ok(PostgresResult {
        settings,
        database_cpu_missing,
        runs,
    })
}

/// `instances` Nods on `database` (filled here), each at its own address with the first's
/// as their public URL; `remembered` and `ciba` at each concurrency of the plan.
async fn on_instances(
    args: &RunArgs,
    plan: &Plan,
    dir: &Path,
    database: &str,
    instances: usize,
    postmaster: Option<u32>,
) -> anyhow::Result<Vec<RunResult>> {
    const NAMES: [&str; 2] = ["nod-1", "nod-2"];
    anyhow::ensure!((1..=NAMES.len()).contains(&instances), "1 or 2 instances");
    prepare_database(args, database, dir, None, &[])?;
    let (a, b) = free_ports()?;
    let addrs: Vec<SocketAddr> = [a, b][..instances]
        .iter()
        .map(|&port| SocketAddr::from(([127, 0, 0, 1], port)))
        .collect();
    let public = addrs[0];
    let mut servers = Vec::new();
    for (&addr, name) in addrs.iter().zip(NAMES) {
        let mut server = spawn_nod(args, database, dir, name, addr, public)?;
        wait_ready(&mut server, addr, DISCOVERY, &issuer(public)).await?;
        servers.push(server);
    }
    let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
    let mut target = Target::new(Flavor::Nod, public)?;
    target.instances = addrs;
    target.name = format!("nod-pg×{instances}");
    let mut runs = Vec::new();
    for scenario in [Scenario::Remembered, Scenario::Ciba] {
        for &vus in &plan.levels {
            let model = Model::Closed { vus };
            runs.push(one_run(&target, &pids, postmaster, scenario, model, plan).await?);
        }
    }
    Ok(runs)
}

const DISCOVERY: &str = "/access-management-1.0/access/.well-known/openid-configuration";

/// What Nod's discovery document says its issuer is, at `addr`.
fn issuer(addr: SocketAddr) -> String {
    format!("\"issuer\":\"http://{addr}/access-management-1.0/access/\"")
}

/// Nod on a fresh database with `users` generated users (besides the harness's people):
/// `remembered` and `ciba` at 4 virtual users.
async fn with_users(
    args: &RunArgs,
    dir: &Path,
    users: u32,
    plan: &Plan,
) -> anyhow::Result<UsersSize> {
    let (port, _) = free_ports()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let dir = dir.join(format!("users-{users}"));
    let (mut server, generation_s) = start_nod(args, &dir, addr, Some(users), &[])?;
    // As generated and imported, before any login writes to it: the database and its
    // write-ahead log.
    let database_bytes = ["nod.db", "nod.db-wal"]
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len()))
        .sum();
    wait_ready(&mut server, addr, DISCOVERY, &issuer(addr)).await?;
    let target = Target::new(Flavor::Nod, addr)?;
    let mut runs = Vec::new();
    for scenario in [Scenario::Remembered, Scenario::Ciba] {
        let model = Model::Closed { vus: 4 };
        runs.push(one_run(&target, &[server.pid()], None, scenario, model, plan).await?);
    }
    let memory = crate::procfs::memory(server.pid()).ok();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(UsersSize {
        users,
        generation_s: generation_s.unwrap_or(0.0),
        database_bytes,
        server_memory: memory,
        runs,
    })
}

#[expect(
    clippy::disallowed_methods,
    reason = "the harness is no part of the server: its report just carries when it ran"
)]
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_have_distinct_norwegian_numbers() {
        let phones = phones();
        assert_eq!(phones.len(), PEOPLE);
        assert_eq!(phones[0], "4798000000");
        let mut unique = phones.clone();
        unique.dedup();
        assert_eq!(unique.len(), PEOPLE);
        assert!(phones.iter().all(|p| p.len() == 10 && p.starts_with("479")));
    }
}
