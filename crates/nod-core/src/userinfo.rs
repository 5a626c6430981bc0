//! The claims userinfo returns for a user and a set of granted scopes (SPEC §3).

use serde_json::{Map, Value, json};
use uuid::Uuid;

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
                out.insert("email_verified".into(), Value::Bool(true));
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
            active: true,
            created_at: 0,
        }
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
