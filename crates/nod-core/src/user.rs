//! Users: verified people with their profile data, and the addresses they keep.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Timestamp;

/// Kind of an address, as userinfo names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AddressType {
    #[default]
    Home,
    Work,
    Other,
}

/// A postal address of a user. The first address of a user is their default address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street_address: String,
    pub postal_code: String,
    pub region: String,
    /// ISO 3166-1 alpha-2 country code, e.g. `NO`.
    pub country: String,
    #[serde(default)]
    pub address_type: AddressType,
}

impl Address {
    /// The address as lines, the way userinfo's `formatted` field carries it.
    pub fn formatted(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.street_address, self.postal_code, self.region, self.country
        )
    }
}

/// A user as it is created or imported. Field names are the userinfo claim names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// MSISDN: country code and number, digits only, e.g. `4712345678`.
    pub phone_number: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    /// `YYYY-MM-DD`.
    pub birthdate: String,
    /// National identity number (Norwegian fødselsnummer, Danish CPR, Finnish HETU).
    pub nin: String,
    /// At most three; the first one is the default address.
    #[serde(default)]
    pub addresses: Vec<Address>,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub phone_number: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub birthdate: String,
    pub nin: String,
    pub addresses: Vec<Address>,
    pub active: bool,
    pub created_at: Timestamp,
}

impl User {
    /// A new, active user with a fresh id.
    pub fn new(u: NewUser, now: Timestamp) -> User {
        User {
            id: Uuid::new_v4(),
            phone_number: u.phone_number,
            given_name: u.given_name,
            family_name: u.family_name,
            email: u.email,
            birthdate: u.birthdate,
            nin: u.nin,
            addresses: u.addresses,
            active: true,
            created_at: now,
        }
    }

    pub fn name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}
