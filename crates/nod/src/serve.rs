//! `nod serve`: logging, the database, demo data in test mode, and the server until
//! Ctrl-C or SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use nod_core::crypto;
use nod_core::sales_unit::{AuthMethod, CibaMode, SalesUnit};
use nod_core::user::User;
use nod_server::{App, Clock, SystemClock};
use nod_store::{Store, StoreError};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::cli::{LogFormat, ServeArgs};
use crate::config::{Settings, redact};

/// The demo sales unit's client id.
pub const DEMO_CLIENT_ID: &str = "demo-client";
/// The demo sales unit's secret: fixed so a restart keeps it. Test mode only.
pub const DEMO_CLIENT_SECRET: &str = "demo-secret-for-test-mode-only-0123456789";

pub async fn run(settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    init_logging(settings.log_format);
    let config = settings.server_config(&args)?;
    let store = nod_store::connect(&settings.database_url)
        .await
        .with_context(|| format!("opening {}", redact(&settings.database_url)))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if args.demo {
        seed_demo(store.as_ref(), &config.public_url, clock.now()).await?;
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
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
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

/// Seeds the test users and the demo sales unit. Safe to run at every start.
pub async fn seed_demo(store: &dyn Store, public_url: &str, now: i64) -> anyhow::Result<()> {
    let users: Vec<User> = nod_core::demo::demo_users()
        .into_iter()
        .map(|u| crate::user::new_user(u, now))
        .collect();
    let created = store.import_users(&users).await?;
    let redirect_uris = vec![
        format!("{public_url}/demo/callback"),
        "http://localhost:3000/callback".to_owned(),
    ];
    let unit = SalesUnit {
        client_id: DEMO_CLIENT_ID.into(),
        secret_hash: crypto::hash_secret(DEMO_CLIENT_SECRET).to_vec(),
        name: "Demo Shop".into(),
        redirect_uris,
        auth_method: AuthMethod::ClientSecretBasic,
        msn: Some("123456".into()),
        allow_nin: true,
        ciba_mode: CibaMode::Poll,
        ciba_notification_endpoint: None,
        webhook_url: None,
        created_at: now,
    };
    match store.create_sales_unit(&unit).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => store.update_sales_unit(&unit).await?,
        Err(e) => return Err(e.into()),
    }
    tracing::info!(users_created = created, "demo data ready");
    Ok(())
}

async fn print_demo(store: &dyn Store, public_url: &str) -> anyhow::Result<()> {
    let users = store.list_users(50, 0).await?;
    println!();
    println!("Nod is running in test mode at {public_url}");
    println!();
    println!("  Demo sales unit");
    println!("    client_id:     {DEMO_CLIENT_ID}");
    println!("    client_secret: {DEMO_CLIENT_SECRET}");
    println!("    redirect_uri:  {public_url}/demo/callback  (and http://localhost:3000/callback)");
    println!(
        "    discovery:     {public_url}/access-management-1.0/access/.well-known/openid-configuration"
    );
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
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn demo_seeding_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("nod.db").display());
        let store = nod_store::connect(&url).await.unwrap();
        seed_demo(store.as_ref(), "http://localhost:8080", 1)
            .await
            .unwrap();
        seed_demo(store.as_ref(), "http://localhost:9090", 2)
            .await
            .unwrap();
        let users = store.list_users(1000, 0).await.unwrap();
        assert_eq!(users.len(), nod_core::demo::demo_users().len());
        let countries: std::collections::HashSet<&str> = users
            .iter()
            .filter_map(|u| u.addresses.first())
            .map(|a| a.country.as_str())
            .collect();
        assert_eq!(countries.len(), 3);
        let unit = store.get_sales_unit(DEMO_CLIENT_ID).await.unwrap().unwrap();
        assert!(crypto::verify_secret(DEMO_CLIENT_SECRET, &unit.secret_hash));
        assert!(unit.allow_nin);
        assert!(
            unit.redirect_uris
                .contains(&"http://localhost:9090/demo/callback".to_owned())
        );
        assert_eq!(store.list_sales_units().await.unwrap().len(), 1);
    }
}
