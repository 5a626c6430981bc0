//! `nod user generate`: test users in bulk for load tests, each with a consent to every
//! sales unit and a remembered browser, so the tables are as large as a real service's.

use indicatif::{ProgressBar, ProgressStyle};
use nod_core::Timestamp;
use nod_core::crypto;
use nod_core::login::RememberedBrowser;
use nod_core::scope::{Scope, ScopeSet};
use nod_core::user::{Address, AddressType, NewUser, User};
use nod_store::Store;
use uuid::Uuid;

/// Users stored per transaction.
const BATCH: u32 = 5_000;

/// The first generated phone number: +47 40000000.
const FIRST_NUMBER: u32 = 40_000_000;

const GIVEN: [&str; 8] = [
    "Ola", "Kari", "Nils", "Ingrid", "Lars", "Sofie", "Emil", "Nora",
];
const FAMILY: [&str; 8] = [
    "Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Dahl", "Lie",
];

/// The phone number of generated user `n` (E.164 digits without `+`).
pub(crate) fn phone_number(n: u32) -> String {
    format!("47{}", FIRST_NUMBER + n)
}

/// Generated user `n`: a name, e-mail, birthdate and address derived from `n`.
fn new_user(n: u32) -> NewUser {
    let i = n as usize;
    NewUser {
        phone_number: phone_number(n),
        given_name: GIVEN[i % GIVEN.len()].to_owned(),
        family_name: FAMILY[(i / GIVEN.len()) % FAMILY.len()].to_owned(),
        email: format!("user{n}@example.test"),
        birthdate: format!("{}-{:02}-{:02}", 1950 + n % 50, 1 + n % 12, 1 + n % 28),
        nin: String::new(),
        addresses: vec![Address {
            street_address: format!("Testveien {}", 1 + n % 200),
            postal_code: format!("{:04}", n % 10_000),
            region: "Oslo".to_owned(),
            country: "NO".to_owned(),
            address_type: AddressType::Home,
        }],
        email_verified: true,
    }
}

/// Generates `count` users from number `start` on; returns how many were new.
pub(crate) async fn run(
    store: &dyn Store,
    start: u32,
    count: u32,
    now: Timestamp,
    remember_days: i64,
) -> anyhow::Result<usize> {
    let units = store.list_sales_units().await?;
    let mut consent = ScopeSet::EMPTY;
    for scope in Scope::ALL {
        consent.insert(scope);
    }
    let consent = consent.consentable();
    let progress = ProgressBar::new(u64::from(count)).with_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} users ({per_sec}, {eta} left)",
    )?);
    let mut created = 0;
    let end = start.saturating_add(count);
    let mut next = start;
    while next < end {
        let batch_end = next.saturating_add(BATCH).min(end);
        let users: Vec<User> = (next..batch_end)
            .map(|n| {
                let mut new = new_user(n);
                new.normalize();
                new.validate().map(|()| User::new(new, now))
            })
            .collect::<Result<_, _>>()?;
        let new = store.import_users(&users).await?;
        created += new;
        for user in &users {
            // An already registered number keeps its own person: look the stored one up.
            let id = if new == users.len() {
                user.id
            } else {
                match store.get_user_by_phone(&user.phone_number).await? {
                    Some(stored) => stored.id,
                    None => continue,
                }
            };
            for unit in &units {
                store
                    .grant_consent(id, &unit.client_id, consent, now)
                    .await?;
            }
            let browser = RememberedBrowser {
                id: Uuid::new_v4(),
                user_id: id,
                label: "Generated browser".to_owned(),
                created_at: now,
                last_used_at: now,
                expires_at: now + remember_days * 86_400,
            };
            let token_hash = crypto::hash_secret(&crypto::random_secret());
            store.create_browser(&browser, &token_hash).await?;
        }
        progress.inc(u64::from(batch_end - next));
        next = batch_end;
    }
    progress.finish();
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_users_are_valid_and_distinct() {
        let mut phones = std::collections::HashSet::new();
        for n in [0, 1, 27, 9_999_999] {
            let mut user = new_user(n);
            user.normalize();
            assert_eq!(user.validate(), Ok(()), "user {n}");
            assert!(phones.insert(user.phone_number.clone()));
        }
        assert_eq!(phone_number(0), "4740000000");
        assert_eq!(phone_number(9_999_999), "4749999999");
    }
}
