//! `nod keys …`: list the signing keys, and rotate them (see `nod_server::keys`).

use nod_core::signing::SigningAlg;
use nod_server::Clock;
use nod_server::keys::{self, Rotation};
use serde_json::json;

use crate::cli::{KeysCommand, SigningAlgArg};
use crate::config::Settings;
use crate::time::format_time;

fn alg(arg: SigningAlgArg) -> SigningAlg {
    match arg {
        SigningAlgArg::Rs256 => SigningAlg::Rs256,
        SigningAlgArg::Es256 => SigningAlg::Es256,
        SigningAlgArg::EdDsa => SigningAlg::EdDsa,
    }
}

pub(crate) async fn run(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let store = nod_store::connect(&settings.database_url).await?;
    let now = nod_server::SystemClock.now();
    let keep_after = keys::keep_after(settings.server.id_token_lifetime);
    match command {
        KeysCommand::List => {
            let stored = store.list_signing_keys().await?;
            // As the servers decide it (`nod_core::signing::Schedule`).
            let schedule = keys::schedule(&stored, keep_after);
            let rows: Vec<_> = stored
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    (
                        k,
                        schedule.published_until(i),
                        schedule.status(i, now).as_str(),
                    )
                })
                .collect();
            if settings.json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|(k, until, status)| {
                        json!({
                            "kid": k.kid,
                            "alg": k.alg,
                            "status": status,
                            "created_at": k.created_at,
                            "active_from": k.active_from,
                            "published_until": until,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else if rows.is_empty() {
                println!("No signing keys yet: the server creates the first when it starts.");
            } else {
                println!(
                    "{:<44} {:<6} {:<9} {:<21} published until",
                    "kid", "alg", "status", "signs from"
                );
                for (k, until, status) in rows {
                    println!(
                        "{:<44} {:<6} {:<9} {:<21} {}",
                        k.kid,
                        k.alg,
                        status,
                        format_time(k.active_from),
                        until.map_or_else(|| "-".to_owned(), format_time)
                    );
                }
            }
        }
        KeysCommand::Rotate(args) => {
            let alg = args.alg.map_or(settings.server.signing_alg, alg);
            let publish_before = settings.server.key_publish_before;
            let Rotation { key, retire_at } =
                keys::rotate(store.as_ref(), alg, now, publish_before, keep_after).await?;
            if settings.json {
                println!(
                    "{}",
                    json!({
                        "kid": key.kid,
                        "alg": key.alg,
                        "active_from": key.active_from,
                        "replaced_keys_published_until": retire_at,
                    })
                );
            } else {
                println!("New {} key {}", key.alg, key.kid);
                println!(
                    "  published from each server's next reload (within its key_reload_interval, default 60 s)"
                );
                println!("  signs from {}", format_time(key.active_from));
                println!(
                    "  the keys it replaces leave the JWKS at {}",
                    format_time(retire_at)
                );
                let wanted = settings.server.key_reload_interval + 300;
                if publish_before < wanted {
                    println!(
                        "Warning: published only {publish_before} s before it signs; servers reread keys every {} s and clients may keep the JWKS 300 s, so some may not verify its first tokens.",
                        settings.server.key_reload_interval
                    );
                }
            }
        }
    }
    Ok(())
}
