//! `nod sales-unit …`: register and manage merchants' OAuth clients.

use anyhow::{Context, bail};
use nod_core::crypto;
use nod_core::sales_unit::{self, AuthMethod, CibaMode, ConsentTexts, SalesUnit, SalesUnitError};
use nod_server::Clock;
use nod_store::StoreError;
use serde_json::json;

use crate::cli::{AuthMethodArg, CibaModeArg, SalesUnitCommand};
use crate::config::Settings;

fn auth_method(arg: AuthMethodArg) -> AuthMethod {
    match arg {
        AuthMethodArg::ClientSecretBasic => AuthMethod::ClientSecretBasic,
        AuthMethodArg::ClientSecretPost => AuthMethod::ClientSecretPost,
    }
}

fn ciba_mode(arg: CibaModeArg) -> CibaMode {
    match arg {
        CibaModeArg::Poll => CibaMode::Poll,
        CibaModeArg::Ping => CibaMode::Ping,
    }
}

/// Checks every rule of the core, naming the flag where the CLI has one to name.
fn check(unit: &SalesUnit) -> anyhow::Result<()> {
    match unit.validate() {
        Ok(()) => Ok(()),
        Err(SalesUnitError::PingWithoutEndpoint) => {
            bail!("--ciba-mode ping needs --ciba-notification-endpoint")
        }
        Err(e) => Err(e.into()),
    }
}

fn read_consent_texts(path: &std::path::Path) -> anyhow::Result<ConsentTexts> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn view(unit: &SalesUnit) -> serde_json::Value {
    json!({
        "client_id": unit.client_id,
        "name": unit.name,
        "redirect_uris": unit.redirect_uris,
        "auth_method": unit.auth_method.as_str(),
        "msn": unit.msn,
        "allow_nin": unit.allow_nin,
        "ciba_mode": unit.ciba_mode.as_str(),
        "ciba_notification_endpoint": unit.ciba_notification_endpoint,
        "webhook_url": unit.webhook_url,
        "consent_texts": unit.consent_texts,
        "created_at": unit.created_at,
    })
}

fn print_unit(settings: &Settings, unit: &SalesUnit, secret: Option<&str>) {
    if settings.json {
        let mut value = view(unit);
        if let Some(secret) = secret {
            value["client_secret"] = json!(secret);
        }
        println!("{value}");
        return;
    }
    println!("client_id:     {}", unit.client_id);
    if let Some(secret) = secret {
        println!("client_secret: {secret}   (shown once; Nod keeps only its hash)");
    }
    println!("name:          {}", unit.name);
    println!("redirect_uris: {}", unit.redirect_uris.join(" "));
    println!("auth_method:   {}", unit.auth_method.as_str());
    println!("msn:           {}", unit.msn.as_deref().unwrap_or("-"));
    println!("allow_nin:     {}", unit.allow_nin);
    println!("ciba_mode:     {}", unit.ciba_mode.as_str());
    if let Some(endpoint) = &unit.ciba_notification_endpoint {
        println!("ciba_notification_endpoint: {endpoint}");
    }
    if let Some(webhook) = &unit.webhook_url {
        println!("webhook_url:   {webhook}");
    }
}

pub(crate) async fn run(settings: &Settings, command: SalesUnitCommand) -> anyhow::Result<()> {
    let store = nod_store::connect(&settings.database_url).await?;
    let now = nod_server::SystemClock.now();
    match command {
        SalesUnitCommand::Create {
            name,
            redirect_uris,
            client_id,
            client_secret,
            auth_method: method,
            msn,
            allow_nin,
            ciba_mode: mode,
            ciba_notification_endpoint,
            webhook_url,
            consent_texts,
        } => {
            let client_id = client_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let secret = match client_secret {
                Some(s) => {
                    sales_unit::validate_chosen_secret(&s)?;
                    s
                }
                None => crypto::random_secret(),
            };
            let unit = SalesUnit {
                client_id,
                secret_hash: crypto::hash_secret(&secret).to_vec(),
                name,
                redirect_uris,
                auth_method: auth_method(method),
                msn,
                allow_nin,
                ciba_mode: ciba_mode(mode),
                ciba_notification_endpoint,
                webhook_url,
                consent_texts: consent_texts
                    .as_deref()
                    .map(read_consent_texts)
                    .transpose()?,
                created_at: now,
            };
            check(&unit)?;
            match store.create_sales_unit(&unit).await {
                Err(StoreError::Conflict(_)) => bail!(
                    "a sales unit with client id '{}' exists already",
                    unit.client_id
                ),
                other => other?,
            }
            crate::audit::record(
                store.as_ref(),
                now,
                "sales_unit_created",
                Some(&unit.client_id),
                "",
            )
            .await?;
            print_unit(settings, &unit, Some(&secret));
        }
        SalesUnitCommand::List => {
            let units = store.list_sales_units().await?;
            if settings.json {
                println!(
                    "{}",
                    serde_json::Value::Array(units.iter().map(view).collect())
                );
            } else if units.is_empty() {
                println!(
                    "No sales units. Create one with: nod sales-unit create --name NAME --redirect-uri URI"
                );
            } else {
                for unit in units {
                    println!(
                        "{:<40} {:<30} {}",
                        unit.client_id,
                        unit.name,
                        unit.redirect_uris.join(" ")
                    );
                }
            }
        }
        SalesUnitCommand::Show { client_id } => {
            let unit = store
                .get_sales_unit(&client_id)
                .await?
                .with_context(|| format!("no sales unit '{client_id}'"))?;
            print_unit(settings, &unit, None);
        }
        SalesUnitCommand::Update {
            client_id,
            name,
            redirect_uris,
            auth_method: method,
            msn,
            allow_nin,
            ciba_mode: mode,
            ciba_notification_endpoint,
            webhook_url,
            consent_texts,
            rotate_secret,
        } => {
            let mut unit = store
                .get_sales_unit(&client_id)
                .await?
                .with_context(|| format!("no sales unit '{client_id}'"))?;
            // What changed, by option name, for the audit log (never a value: a secret
            // or an endpoint is no business of the log).
            let mut changed: Vec<&str> = Vec::new();
            if let Some(name) = name {
                unit.name = name;
                changed.push("name");
            }
            if let Some(uris) = redirect_uris {
                unit.redirect_uris = uris;
                changed.push("redirect_uris");
            }
            if let Some(method) = method {
                unit.auth_method = auth_method(method);
                changed.push("auth_method");
            }
            if let Some(msn) = msn {
                unit.msn = Some(msn).filter(|m| !m.is_empty());
                changed.push("msn");
            }
            if let Some(allow) = allow_nin {
                unit.allow_nin = allow;
                changed.push("allow_nin");
            }
            if let Some(mode) = mode {
                unit.ciba_mode = ciba_mode(mode);
                changed.push("ciba_mode");
            }
            if let Some(endpoint) = ciba_notification_endpoint {
                unit.ciba_notification_endpoint = Some(endpoint).filter(|e| !e.is_empty());
                changed.push("ciba_notification_endpoint");
            }
            if let Some(webhook) = webhook_url {
                unit.webhook_url = Some(webhook).filter(|w| !w.is_empty());
                changed.push("webhook_url");
            }
            if let Some(path) = consent_texts {
                unit.consent_texts = Some(read_consent_texts(&path)?);
                changed.push("consent_texts");
            }
            let secret = rotate_secret.then(crypto::random_secret);
            if let Some(secret) = &secret {
                unit.secret_hash = crypto::hash_secret(secret).to_vec();
                changed.push("client_secret");
            }
            check(&unit)?;
            store.update_sales_unit(&unit).await?;
            crate::audit::record(
                store.as_ref(),
                now,
                "sales_unit_updated",
                Some(&unit.client_id),
                &changed.join(" "),
            )
            .await?;
            print_unit(settings, &unit, secret.as_deref());
        }
        SalesUnitCommand::Delete { client_id } => {
            match store.delete_sales_unit(&client_id).await {
                Err(StoreError::NotFound) => bail!("no sales unit '{client_id}'"),
                other => other?,
            }
            crate::audit::record(
                store.as_ref(),
                now,
                "sales_unit_deleted",
                Some(&client_id),
                "",
            )
            .await?;
            if settings.json {
                println!("{}", json!({ "deleted": client_id }));
            } else {
                println!("Deleted sales unit {client_id}");
            }
        }
    }
    Ok(())
}
