//! `nod user …`: create, import, list, show and delete users.

use anyhow::{Context, bail};
use nod_core::msisdn;
use nod_core::user::{Address, NewUser, User, UserError, utc_day};
use nod_server::Clock;
use nod_store::{Store, StoreError};
use serde_json::json;
use uuid::Uuid;

use crate::cli::UserCommand;
use crate::config::Settings;

/// Normalizes the phone number a person typed and checks every rule of the core.
fn checked(mut user: NewUser) -> Result<NewUser, UserError> {
    user.normalize();
    user.validate()?;
    Ok(user)
}

fn view(u: &User) -> serde_json::Value {
    json!({
        "id": u.id,
        "phone_number": u.phone_number,
        "given_name": u.given_name,
        "family_name": u.family_name,
        "email": u.email,
        "birthdate": u.birthdate,
        "nin": u.nin,
        "addresses": u.addresses,
        "email_verified": u.email_verified,
        "active": u.active,
    })
}

pub(crate) async fn find(store: &dyn Store, key: &str) -> anyhow::Result<User> {
    let found = match Uuid::parse_str(key) {
        Ok(id) => store.get_user(id).await?,
        Err(_) => match msisdn::normalize(key) {
            Some(phone) => store.get_user_by_phone(&phone).await?,
            None => None,
        },
    };
    found.with_context(|| format!("no user '{key}'"))
}

/// Users `nod user import` stores per transaction.
const IMPORT_BATCH: usize = 1_000;
pub(crate) async fn run(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let store = nod_store::connect(&settings.database_url).await?;
    let now = nod_server::SystemClock.now();
    match command {
        UserCommand::Create {
            phone_number,
            given_name,
            family_name,
            email,
            birthdate,
            nin,
            addresses,
            email_unverified,
        } => {
            let addresses = addresses
                .iter()
                .map(|a| {
                    serde_json::from_str::<Address>(a).with_context(|| format!("bad --address {a}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let new = checked(NewUser {
                phone_number,
                given_name,
                family_name,
                email,
                birthdate,
                nin,
                addresses,
                email_verified: !email_unverified,
            })?;
            let user = User::new(new, now);
            match store.create_user(&user).await {
                Err(StoreError::Conflict(_)) => bail!(
                    "a user with phone number {} exists already",
                    user.phone_number
                ),
                other => other?,
            }
            print_user(settings, &user);
        }
        UserCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let new: Vec<NewUser> = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", file.display()))?;
            let users = new
                .into_iter()
                .enumerate()
                .map(|(i, u)| {
                    checked(u)
                        .map(|u| User::new(u, now))
                        .with_context(|| format!("user at index {i} in {}", file.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            // Every user is checked first (a bad one imports nothing); then they are
            // stored a batch per transaction, so a server on the same database waits for
            // one batch at a time, never for the whole file. Run again after a failure:
            // numbers already stored are skipped.
            let mut created = 0;
            for batch in users.chunks(IMPORT_BATCH) {
                created += store.import_users(batch).await?;
            }
            let skipped = users.len() - created;
            if settings.json {
                println!("{}", json!({ "created": created, "skipped": skipped }));
            } else {
                println!(
                    "Imported {created} users ({skipped} skipped: phone number already registered)"
                );
            }
        }
        UserCommand::List { limit, offset } => {
            let users = store
                .list_users(limit.clamp(1, 10_000), offset.max(0))
                .await?;
            if settings.json {
                println!(
                    "{}",
                    serde_json::Value::Array(users.iter().map(view).collect())
                );
            } else {
                for u in users {
                    println!("+{:<14} {:<30} {}", u.phone_number, u.name(), u.id);
                }
            }
        }
        UserCommand::Show { user } => {
            let user = find(store.as_ref(), &user).await?;
            print_user(settings, &user);
        }
        UserCommand::Devices { user } => {
            let user = find(store.as_ref(), &user).await?;
            let devices = store.list_devices(user.id, now).await?;
            if settings.json {
                let devices: Vec<_> = devices
                    .iter()
                    .map(|d| {
                        json!({
                            "id": d.id,
                            "name": d.name,
                            "created_at": d.created_at,
                            "last_used_at": d.last_used_at,
                            "expires_at": d.expires_at,
                        })
                    })
                    .collect();
                println!("{}", json!({ "devices": devices }));
            } else if devices.is_empty() {
                println!("+{} has no registered app", user.phone_number);
            } else {
                for d in &devices {
                    println!(
                        "{}  registered {}  last used {}  {}",
                        d.id,
                        utc_day(d.created_at),
                        utc_day(d.last_used_at),
                        d.name.as_deref().unwrap_or("(no name)")
                    );
                }
            }
        }
        UserCommand::RevokeDevice { user, device_id } => {
            let user = find(store.as_ref(), &user).await?;
            let detail = format!("{device_id} by operator");
            let audit = [nod_store::AuditEvent {
                at: now,
                event: "device_revoked",
                user_id: Some(user.id),
                client_id: None,
                detail: &detail,
            }];
            if !store.delete_device(user.id, device_id, &audit).await? {
                bail!("+{} has no device {device_id}", user.phone_number);
            }
            if settings.json {
                println!("{}", json!({ "revoked": device_id }));
            } else {
                println!("Logged out app {device_id} of +{}", user.phone_number);
            }
        }
        UserCommand::ActivationCode { user, minutes } => {
            let user = find(store.as_ref(), &user).await?;
            let code = nod_core::crypto::activation_code();
            let canonical =
                nod_core::crypto::normalize_activation_code(&code).context("activation code")?;
            let expires_at = now + minutes * 60;
            store
                .create_activation_code(
                    user.id,
                    &nod_core::crypto::hash_secret(&canonical),
                    expires_at,
                )
                .await?;
            if settings.json {
                println!(
                    "{}",
                    json!({ "phone_number": user.phone_number, "activation_code": code, "expires_at": expires_at })
                );
            } else {
                println!("Activation code for +{}: {code}", user.phone_number);
                println!("Valid for {minutes} minutes, once. Nod keeps only its hash.");
            }
        }
        UserCommand::Generate { count, start } => {
            anyhow::ensure!(
                u64::from(start) + u64::from(count) <= 10_000_000,
                "--start plus --count may be at most 10000000 (the numbers +47 40000000 to +47 49999999)"
            );
            let remember_days = settings.server.remember_days;
            let created =
                crate::generate::run(store.as_ref(), start, count, now, remember_days).await?;
            if settings.json {
                println!("{}", json!({ "created": created }));
            } else {
                println!(
                    "{created} new users among +{} to +{}",
                    crate::generate::phone_number(start),
                    crate::generate::phone_number(start + count - 1)
                );
            }
        }
        UserCommand::Delete { user } => {
            let user = find(store.as_ref(), &user).await?;
            store.delete_user(user.id).await?;
            let entry = nod_store::AuditEvent {
                at: now,
                event: "user_deleted",
                user_id: Some(user.id),
                client_id: None,
                detail: "",
            };
            store.record_audit(&entry).await.with_context(
                || "the user is deleted, but its audit entry (user_deleted) was not written",
            )?;
            if settings.json {
                println!("{}", json!({ "deleted": user.id }));
            } else {
                println!("Deleted user {} (+{})", user.id, user.phone_number);
            }
        }
    }
    Ok(())
}

fn print_user(settings: &Settings, u: &User) {
    if settings.json {
        println!("{}", view(u));
    } else {
        println!("id:           {}", u.id);
        println!("phone_number: +{}", u.phone_number);
        println!("name:         {}", u.name());
        println!("email:        {}", u.email);
        println!("birthdate:    {}", u.birthdate);
        println!("nin:          {}", u.nin);
        for a in &u.addresses {
            println!("address:      {}", a.formatted().replace('\n', ", "));
        }
    }
}
