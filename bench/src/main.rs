//! `nod-bench`: whole logins against Nod (and a peer OpenID provider), with latency per
//! step, logins per second, and the server's CPU time per login.

mod cookies;
mod http;
mod links;
mod load;
mod orchestrate;
mod postgres;
mod procfs;
mod purge;
mod report;
mod scale;
mod scenario;
mod sign;
mod stats;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::load::{Load, Model};
use crate::scenario::{Flavor, Scenario, Shared, Target};

#[derive(Parser)]
#[command(
    name = "nod-bench",
    about = "Load generator for Nod: whole logins, figures per step"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// RS256 signatures per second on one core (RSA 2048, aws-lc-rs).
    Sign {
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
    /// One scenario against one running server; prints the figures as JSON.
    Load(LoadArgs),
    /// Starts Nod and the peer, runs every scenario, writes JSON, markdown and SVG.
    Run(orchestrate::RunArgs),
    /// The expiry purge alone: a fresh database in --dir with --rows expired login
    /// requests, purged while another writer is timed; prints the figures as JSON.
    Purge {
        #[arg(long, default_value_t = 240_000)]
        rows: u64,
        #[arg(long)]
        dir: std::path::PathBuf,
    },
}

#[derive(clap::Args)]
struct LoadArgs {
    /// Which kind of server listens at --addr.
    #[arg(long, value_enum, default_value = "nod")]
    target: Flavor,
    #[arg(long, default_value = "127.0.0.1:18990")]
    addr: SocketAddr,
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// Closed loop: this many virtual users, logins back to back.
    #[arg(long, conflicts_with = "rate")]
    vus: Option<usize>,
    /// Open loop: logins started per second.
    #[arg(long)]
    rate: Option<f64>,
    /// Open loop: most connections at once.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// The server's process id, for CPU seconds and memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Nod: the people's phone numbers (MSISDN digits), the remembered browser's first,
    /// then one per virtual user (`desktop`, `ciba`). Default: those `nod-bench run`
    /// imports (4798000000 and on).
    #[arg(long, value_delimiter = ',')]
    phones: Vec<String>,
    #[arg(long)]
    client_id: Option<String>,
    #[arg(long)]
    client_secret: Option<String>,
    #[arg(long)]
    redirect_uri: Option<String>,
}

async fn load(args: LoadArgs) -> anyhow::Result<()> {
    let mut target = Target::new(args.target, args.addr)?;
    if let Some(id) = args.client_id {
        target.client_id = id;
    }
    if let Some(secret) = args.client_secret {
        target.client_secret = secret;
    }
    if let Some(uri) = args.redirect_uri {
        target.redirect_uri = uri;
    }
    let mut phones = if args.phones.is_empty() {
        orchestrate::phones()
    } else {
        args.phones
    };
    anyhow::ensure!(!phones.is_empty(), "no phone numbers");
    let first = phones.remove(0);
    let model = match (args.vus, args.rate) {
        (_, Some(rate)) => Model::Open {
            rate,
            max_connections: args.max_connections,
        },
        (vus, None) => Model::Closed {
            vus: vus.unwrap_or(4),
        },
    };
    let mut shared = Shared::new(target, args.scenario, phones);
    shared.prepare(&first).await?;
    let result = load::run(
        Arc::new(shared),
        Load {
            model,
            warmup: Duration::from_secs_f64(args.warmup),
            duration: Duration::from_secs_f64(args.duration),
            server_pids: args.server_pid.into_iter().collect(),
            database_pid: None,
        },
    )
    .await?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    anyhow::ensure!(
        result.all_failed() == 0,
        "{} logins failed",
        result.all_failed()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Sign { seconds } = cli.command {
        // One core: the calling thread, no runtime.
        let r = sign::measure(Duration::from_secs_f64(seconds))?;
        println!(
            "{:.0} signatures/s, {:.3} ms per signature ({} in {:.2} s)",
            r.per_second, r.ms_per_signature, r.signatures, r.seconds
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Load(args) => load(args).await,
            Command::Run(args) => orchestrate::run(args).await,
            Command::Purge { rows, dir } => {
                std::fs::create_dir_all(&dir)?;
                let result = purge::measure(&dir, rows).await?;
                println!("{}", serde_json::to_string_pretty(&result)?);
                Ok(())
            }
            Command::Sign { .. } => Ok(()),
        }
    })
}
