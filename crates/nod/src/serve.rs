//! `nod serve`: logging, the database, demo data in test mode, and the server until
//! Ctrl-C or SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use nod_server::demo::{self, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use nod_server::{App, Clock, SystemClock};
use nod_store::Store;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::cli::{LogFormat, ServeArgs};
use crate::config::{Settings, redact};

pub(crate) async fn run(settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    init_logging(settings.log_format);
    // Each connection is a file descriptor: take all the system allows (the soft limit is
    // often 1,024, the hard one far higher), so that thousands of idle connections cannot
    // exhaust them.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files"),
        Err(e) => tracing::warn!(error = %e, "the open-files limit could not be raised"),
    }
    let config = settings.server_config(args.demo)?;
    let store = nod_store::connect(&settings.database_url)
        .await
        .with_context(|| format!("opening {}", redact(&settings.database_url)))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if args.demo {
        let created = demo::seed(store.as_ref(), &config.public_url, clock.now()).await?;
        tracing::info!(users_created = created, "demo data ready");
    }
    let app = App::new(config, store.clone(), clock).await?;
    let listener = TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, public_url = %app.config.public_url, test_mode = args.demo, "Nod is listening");
    if args.demo {
        print_demo(store.as_ref(), &app.config.public_url).await?;
    }
    nod_server::serve(listener, app, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

async fn print_demo(store: &dyn Store, public_url: &str) -> anyhow::Result<()> {
    let users = store.list_users(50, 0).await?;
    println!();
    println!("Nod is running in test mode at {public_url}");
    println!();
    println!("  Demo sales unit");
    println!("    client_id:     {DEMO_CLIENT_ID}");
    println!("    client_secret: {DEMO_CLIENT_SECRET}");
    println!("    redirect_uri:  http://localhost:3000/callback  (and {public_url}/demo/callback)");
    println!(
        "    discovery:     {public_url}/access-management-1.0/access/.well-known/openid-configuration"
    );
    println!();
    println!("  Demo shop:  {public_url}/demo/");
    println!("  Test app:   {public_url}/test-app/");
    println!();
    println!("  Test users (phone number, name, country)");
    for user in users {
        let country = user.addresses.first().map_or("", |a| a.country.as_str());
        println!(
            "    +{:<14} {:<28} {}",
            user.phone_number,
            user.name(),
            country
        );
    }
    println!();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_seeding_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("nod.db").display());
        let store = nod_store::connect(&url).await.unwrap();
        demo::seed(store.as_ref(), "http://localhost:8080", 1)
            .await
            .unwrap();
        demo::seed(store.as_ref(), "http://localhost:9090", 2)
            .await
            .unwrap();
        let users = store.list_users(1000, 0).await.unwrap();
        assert_eq!(users.len(), nod_core::demo::seed_users(0).len());
        let inactive: Vec<_> = users.iter().filter(|u| !u.active).collect();
        assert_eq!(inactive.len(), 1, "the special inactive demo user");
        assert!(users.iter().any(|u| !u.email_verified));
        let countries: std::collections::HashSet<&str> = users
            .iter()
            .filter_map(|u| u.addresses.first())
            .map(|a| a.country.as_str())
            .collect();
        assert_eq!(countries.len(), 3);
        let unit = store.get_sales_unit(DEMO_CLIENT_ID).await.unwrap().unwrap();
        assert!(nod_core::crypto::verify_secret(
            DEMO_CLIENT_SECRET,
            &unit.secret_hash
        ));
        assert!(unit.allow_nin);
        assert!(
            unit.redirect_uris
                .contains(&"http://localhost:9090/demo/callback".to_owned())
        );
        assert_eq!(store.list_sales_units().await.unwrap().len(), 1);
    }
}
