//! `nod partner …`: register and remove partners (partner keys).

use anyhow::bail;
use nod_core::crypto;
use nod_core::partner::Partner;
use nod_core::sales_unit;
use nod_server::Clock;
use nod_store::StoreError;
use serde_json::json;

use crate::cli::PartnerCommand;
use crate::config::Settings;

fn view(partner: &Partner) -> serde_json::Value {
    json!({
        "client_id": partner.id,
        "name": partner.name,
        "msns": partner.msns,
        "created_at": partner.created_at,
    })
}

pub(crate) async fn run(settings: &Settings, command: PartnerCommand) -> anyhow::Result<()> {
    let store = nod_store::connect(&settings.database_url).await?;
    let now = nod_server::SystemClock.now();
    match command {
        PartnerCommand::Create {
            name,
            msns,
            client_id,
            client_secret,
        } => {
            let secret = match client_secret {
                Some(s) => {
                    sales_unit::validate_chosen_secret(&s)?;
                    s
                }
                None => crypto::random_secret(),
            };
            let partner = Partner {
                id: client_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                secret_hash: crypto::hash_secret(&secret).to_vec(),
                name,
                msns,
                created_at: now,
            }
            .normalize()?;
            // POST /accesstoken/get tells partners from sales units by client id.
            if store.get_sales_unit(&partner.id).await?.is_some() {
                bail!(
                    "a sales unit has client id '{}'; choose another for the partner",
                    partner.id
                );
            }
            match store.create_partner(&partner).await {
                Err(StoreError::Conflict(_)) => {
                    bail!("a partner with client id '{}' exists already", partner.id)
                }
                other => other?,
            }
            // A partner is named in the detail, as when it gets a token: the client id
            // of an entry is a sales unit's.
            let detail = format!("{} msns={}", partner.id, partner.msns.join(","));
            crate::audit::record(store.as_ref(), now, "partner_created", None, &detail).await?;
            if settings.json {
                let mut value = view(&partner);
                value["client_secret"] = json!(secret);
                println!("{value}");
            } else {
                println!("client_id:     {}", partner.id);
                println!("client_secret: {secret}   (shown once; Nod keeps only its hash)");
                println!("name:          {}", partner.name);
                println!("msns:          {}", partner.msns.join(" "));
            }
        }
        PartnerCommand::List => {
            let partners = store.list_partners().await?;
            if settings.json {
                println!(
                    "{}",
                    serde_json::Value::Array(partners.iter().map(view).collect())
                );
            } else if partners.is_empty() {
                println!("No partners. Create one with: nod partner create --name NAME --msn MSN");
            } else {
                for partner in partners {
                    println!(
                        "{:<40} {:<30} {}",
                        partner.id,
                        partner.name,
                        partner.msns.join(" ")
                    );
                }
            }
        }
        PartnerCommand::Delete { client_id } => {
            match store.delete_partner(&client_id).await {
                Err(StoreError::NotFound) => bail!("no partner '{client_id}'"),
                other => other?,
            }
            crate::audit::record(store.as_ref(), now, "partner_deleted", None, &client_id).await?;
            if settings.json {
                println!("{}", json!({ "deleted": client_id }));
            } else {
                println!("Deleted partner {client_id}");
            }
        }
    }
    Ok(())
}
