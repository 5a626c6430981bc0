//! The claims userinfo returns for a user and a set of granted scopes (SPEC §3).

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::Timestamp;
use crate::login::DelegatedAnswer;
use crate::sales_unit::ConsentTexts;
use crate::scope::{Scope, ScopeSet};
use crate::user::{Address, User};

/// Builds the userinfo body. Claims of scopes that were not granted are never included.
pub fn claims(user: &User, scopes: ScopeSet, sub: Uuid, sid: Uuid) -> Map<String, Value> {
    let mut out = Map::with_capacity(16);
    out.insert("sub".into(), Value::String(sub.to_string()));
    out.insert("sid".into(), Value::String(sid.to_string()));
    for scope in scopes.iter() {
        match scope {
            Scope::Name => {
                out.insert("name".into(), Value::String(user.name()));
                out.insert("given_name".into(), Value::String(user.given_name.clone()));
                out.insert(
                    "family_name".into(),
                    Value::String(user.family_name.clone()),
                );
            }
            Scope::Email => {
                out.insert("email".into(), Value::String(user.email.clone()));
                out.insert("email_verified".into(), Value::Bool(user.email_verified));
            }
            Scope::Address => {
                let mut addresses = user.addresses.iter().take(3);
                let default = addresses.next().map(address).unwrap_or_else(empty_address);
                out.insert("address".into(), default);
                out.insert(
                    "other_addresses".into(),
                    Value::Array(addresses.map(address).collect()),
                );
            }
            Scope::PhoneNumber => {
                out.insert(
                    "phone_number".into(),
                    Value::String(user.phone_number.clone()),
                );
                out.insert("phone_number_verified".into(), Value::Bool(true));
            }
            Scope::BirthDate => {
                out.insert("birthdate".into(), Value::String(user.birthdate.clone()));
            }
            Scope::Nin => {
                out.insert("nin".into(), Value::String(user.nin.clone()));
            }
            Scope::OpenId | Scope::DelegatedConsents | Scope::ApiVersion2 => {}
        }
    }
    out
}

/// The `delegatedConsents` claim: the sales unit's consent texts with the person's
/// answers (`[{"id","accepted"}]` as stored) and when they gave them.
pub fn delegated_consents(
    texts: &ConsentTexts,
    answers: &[DelegatedAnswer],
    time_of_consent: Timestamp,
) -> Value {
    let consents: Vec<Value> = texts
        .consents
        .iter()
        .map(|q| {
            let accepted = answers.iter().any(|a| a.id == q.id && a.accepted);
            json!({
                "id": q.id,
                "accepted": accepted,
                "required": q.required,
                "textDisplayedToUser": q.text_displayed_to_user,
            })
        })
        .collect();
    json!({
        "language": texts.language,
        "heading": texts.heading,
        "text": texts.text,
        "termsDescription": texts.terms_description,
        "confirmConsentButtonText": texts.confirm_consent_button_text,
        "links": texts.links,
        "timeOfConsent": rfc3339(time_of_consent),
        "consents": consents,
    })
}

/// A Unix time as an RFC 3339 UTC timestamp (`2026-11-25T09:56:00Z`).
pub fn rfc3339(ts: Timestamp) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn address(a: &Address) -> Value {
    json!({
        "street_address": a.street_address,
        "postal_code": a.postal_code,
        "region": a.region,
        "country": a.country,
        "formatted": a.formatted(),
        "address_type": a.address_type,
    })
}

fn empty_address() -> Value {
    json!({
        "street_address": "",
        "postal_code": "",
        "region": "",
        "country": "",
        "formatted": "",
        "address_type": "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::AddressType;

    fn user(addresses: Vec<Address>) -> User {
        User {
            id: Uuid::new_v4(),
            phone_number: "4791234567".into(),
            given_name: "Kari".into(),
            family_name: "Nordmann".into(),
            email: "kari@example.no".into(),
            birthdate: "1980-01-02".into(),
            nin: "02018012345".into(),
            addresses,
            email_verified: true,
            active: true,
            created_at: 0,
        }
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_764_064_800 + 59), "2025-11-25T10:00:59Z");
    }

    #[test]
    fn only_granted_claims() {
        let c = claims(
            &user(vec![]),
            ScopeSet::parse("openid name").unwrap(),
            Uuid::nil(),
            Uuid::nil(),
        );
        assert_eq!(c["name"], "Kari Nordmann");
        assert!(!c.contains_key("email"));
        assert!(!c.contains_key("nin"));
    }

    #[test]
    fn email_verified_is_the_users_flag() {
        let scopes = ScopeSet::parse("openid email").unwrap();
        let mut u = user(vec![]);
        assert_eq!(
            claims(&u, scopes, Uuid::nil(), Uuid::nil())["email_verified"],
            true
        );
        u.email_verified = false;
        assert_eq!(
            claims(&u, scopes, Uuid::nil(), Uuid::nil())["email_verified"],
            false
        );
    }

    #[test]
    fn addresses_default_and_others() {
        let a = |street: &str| Address {
            street_address: street.into(),
            postal_code: "0154".into(),
            region: "Oslo".into(),
            country: "NO".into(),
            address_type: AddressType::Home,
        };
        let c = claims(
            &user(vec![a("A 1"), a("B 2")]),
            ScopeSet::parse("openid address").unwrap(),
            Uuid::nil(),
            Uuid::nil(),
        );
        assert_eq!(c["address"]["street_address"], "A 1");
        assert_eq!(c["address"]["formatted"], "A 1\n0154\nOslo\nNO");
        assert_eq!(c["other_addresses"][0]["street_address"], "B 2");
        let none = claims(
            &user(vec![]),
            ScopeSet::parse("openid address").unwrap(),
            Uuid::nil(),
            Uuid::nil(),
        );
        assert_eq!(none["address"]["street_address"], "");
        assert_eq!(none["other_addresses"], json!([]));
    }
}
