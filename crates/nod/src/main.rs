//! `nod`: the one binary. Subcommands run the server and administer sales units, users
//! and the database. `anyhow` is used here, at the edge, and nowhere in the libraries'
//! request paths.

mod audit;
mod cli;
mod config;
mod generate;
mod keys;
mod partner;
mod sales_unit;
mod serve;
mod time;
mod user;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = config::Settings::load(&cli)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(settings, args).await,
            Command::Migrate => {
                nod_store::connect(&settings.database_url).await?;
                if settings.json {
                    println!("{}", serde_json::json!({ "migrated": true }));
                } else {
                    println!(
                        "Database is up to date: {}",
                        config::redact(&settings.database_url)
                    );
                }
                Ok(())
            }
            Command::SalesUnit(command) => sales_unit::run(&settings, command).await,
            Command::User(command) => user::run(&settings, command).await,
            Command::Partner(command) => partner::run(&settings, command).await,
            Command::Keys(command) => keys::run(&settings, command).await,
            Command::Audit(command) => audit::run(&settings, command).await,
        }
    })
}
