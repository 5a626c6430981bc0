//! Users: verified people with their profile data, and the addresses they keep.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Timestamp, msisdn, nin};

/// Most addresses a user keeps.
pub const MAX_ADDRESSES: usize = 3;

/// Most characters in a given or family name.
pub const MAX_NAME_CHARS: usize = 100;

/// The youngest a person may be to log in: "Users below the age of 15 can not use Vipps
/// Login" (Vipps Login FAQ), and the merchant-initiated guide names U15 users among those
/// who get `invalid_user`.
pub const MIN_LOGIN_AGE: u32 = 15;

/// Why a [`NewUser`] cannot be stored. Each message names the field. None repeats the
/// value, so a message can be shown or logged without personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("phone_number is not a valid mobile number with country code")]
    PhoneNumber,
    #[error("given_name must have 1 to {MAX_NAME_CHARS} characters")]
    GivenName,
    #[error("family_name must have 1 to {MAX_NAME_CHARS} characters")]
    FamilyName,
    #[error("email is not an email address")]
    Email,
    #[error("birthdate must be a real date written YYYY-MM-DD")]
    Birthdate,
    #[error("nin needs an address: the first address's country says which kind of number it is")]
    NinWithoutCountry,
    #[error("nin is not a valid national identity number for country {country} and the birthdate")]
    Nin { country: String },
    #[error("addresses: a user has at most {MAX_ADDRESSES} addresses")]
    TooManyAddresses,
    #[error("addresses[{index}].country must be two upper-case letters (ISO 3166-1 alpha-2)")]
    Country { index: usize },
}

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
    /// Whether the e-mail address is verified (userinfo's `email_verified`); `true` when
    /// not given.
    #[serde(default = "verified")]
    pub email_verified: bool,
}

fn verified() -> bool {
    true
}

impl NewUser {
    /// Writes the phone number as an MSISDN when it is one typed with `+`, spaces or a
    /// leading `00` (see [`msisdn::normalize`]); anything else is left for [`Self::validate`]
    /// to reject.
    pub fn normalize(&mut self) {
        if let Some(phone) = msisdn::normalize(&self.phone_number) {
            self.phone_number = phone;
        }
    }

    /// Checks every rule a user must pass before it is stored; the first broken rule is
    /// the error.
    pub fn validate(&self) -> Result<(), UserError> {
        if !msisdn::is_valid(&self.phone_number) {
            return Err(UserError::PhoneNumber);
        }
        if !is_name(&self.given_name) {
            return Err(UserError::GivenName);
        }
        if !is_name(&self.family_name) {
            return Err(UserError::FamilyName);
        }
        if !is_email(&self.email) {
            return Err(UserError::Email);
        }
        if nin::parse_iso_date(&self.birthdate).is_none() {
            return Err(UserError::Birthdate);
        }
        if self.addresses.len() > MAX_ADDRESSES {
            return Err(UserError::TooManyAddresses);
        }
        if let Some(index) = self
            .addresses
            .iter()
            .position(|a| !is_country_code(&a.country))
        {
            return Err(UserError::Country { index });
        }
        if !self.nin.is_empty() {
            let country = &self
                .addresses
                .first()
                .ok_or(UserError::NinWithoutCountry)?
                .country;
            if !nin::is_valid_nin(&self.nin, country, &self.birthdate) {
                return Err(UserError::Nin {
                    country: country.clone(),
                });
            }
        }
        Ok(())
    }
}

fn is_name(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().count() <= MAX_NAME_CHARS
}

/// `local@domain.tld`: one `@`, no spaces or control characters, a domain with a dot
/// that neither starts nor ends it, at most 254 bytes (RFC 5321's path limit).
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An ISO 3166-1 alpha-2 code as Nod stores it: two upper-case ASCII letters.
fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
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
    pub email_verified: bool,
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
            email_verified: u.email_verified,
            active: true,
            created_at: now,
        }
    }

    pub fn name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    /// Whether a login may reach this person at `now`: the account is active and they are
    /// at least [`MIN_LOGIN_AGE`].
    pub fn may_log_in(&self, now: Timestamp) -> bool {
        self.active && age_at(&self.birthdate, now).is_some_and(|age| age >= MIN_LOGIN_AGE)
    }
}

/// A person's age in whole years on the (UTC) day of `now`; `None` for a birthdate that is
/// not `YYYY-MM-DD` or lies after that day. Born on 29 February, one turns a year older on
/// 1 March in years without that day.
pub fn age_at(birthdate: &str, now: Timestamp) -> Option<u32> {
    let born = nin::parse_iso_date(birthdate)?;
    let (year, month, day) = civil_date(now);
    let birthday_passed = (month, day) >= (born.month, born.day);
    let years = i64::from(year) - i64::from(born.year) - i64::from(!birthday_passed);
    u32::try_from(years).ok()
}

/// The UTC day of a Unix time, `YYYY-MM-DD`.
pub fn utc_day(t: Timestamp) -> String {
    let (year, month, day) = civil_date(t);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The UTC calendar date (year, month, day) of a Unix time (Howard Hinnant's
/// `civil_from_days`).
fn civil_date(t: Timestamp) -> (i32, u32, u32) {
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kari() -> NewUser {
        NewUser {
            phone_number: "4791234501".into(),
            given_name: "Kari".into(),
            family_name: "Nordmann".into(),
            email: "kari@example.no".into(),
            birthdate: "1958-03-14".into(),
            nin: "14035810200".into(),
            addresses: vec![address("NO")],
            email_verified: true,
        }
    }

    /// 2026-11-25T12:00:00Z.
    const NOV_25_2026: Timestamp = 1_795_608_000;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(NOV_25_2026), (2026, 11, 25));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        assert_eq!(civil_date(-1), (1969, 12, 31));
    }

    #[test]
    fn age_counts_whole_years_up_to_the_birthday() {
        let now = NOV_25_2026;
        assert_eq!(age_at("2011-11-25", now), Some(15), "15 today");
        assert_eq!(age_at("2011-11-26", now), Some(14), "15 tomorrow");
        assert_eq!(age_at("2011-12-01", now), Some(14));
        assert_eq!(age_at("1958-03-14", now), Some(68));
        assert_eq!(age_at("2026-11-25", now), Some(0));
        assert_eq!(age_at("2026-11-26", now), None, "not born yet");
        assert_eq!(age_at("25.11.2011", now), None);
        // Born on 29 February: a year older on 1 March when February has 28 days.
        let feb_28_2027 = NOV_25_2026 + 95 * 86_400;
        assert_eq!(civil_date(feb_28_2027), (2027, 2, 28));
        assert_eq!(age_at("2012-02-29", feb_28_2027), Some(14));
        assert_eq!(age_at("2012-02-29", feb_28_2027 + 86_400), Some(15));
    }

    #[test]
    fn only_active_users_of_15_or_more_may_log_in() {
        let mut user = User::new(kari(), 0);
        assert!(user.may_log_in(NOV_25_2026));
        user.birthdate = "2011-11-26".into();
        assert!(!user.may_log_in(NOV_25_2026), "14 years old");
        assert!(user.may_log_in(NOV_25_2026 + 86_400), "15 the next day");
        user.birthdate = "1958-03-14".into();
        user.active = false;
        assert!(!user.may_log_in(NOV_25_2026));
    }

    #[test]
    fn email_verified_defaults_to_true_when_imported_without_it() {
        let mut json = serde_json::to_value(kari()).unwrap();
        json.as_object_mut().unwrap().remove("email_verified");
        let user: NewUser = serde_json::from_value(json.clone()).unwrap();
        assert!(user.email_verified);
        json["email_verified"] = false.into();
        let user: NewUser = serde_json::from_value(json).unwrap();
        assert!(!user.email_verified);
    }

    fn address(country: &str) -> Address {
        Address {
            street_address: "Karl Johans gate 1".into(),
            postal_code: "0154".into(),
            region: "Oslo".into(),
            country: country.into(),
            address_type: AddressType::Home,
        }
    }

    /// Kari with one change, validated.
    fn with(change: impl FnOnce(&mut NewUser)) -> Result<(), UserError> {
        let mut user = kari();
        change(&mut user);
        user.validate()
    }

    #[test]
    fn a_complete_user_is_valid() {
        assert_eq!(kari().validate(), Ok(()));
    }

    #[test]
    fn every_demo_user_is_valid() {
        for user in crate::demo::demo_users() {
            assert_eq!(user.validate(), Ok(()), "{}", user.email);
        }
    }

    #[test]
    fn phone_number_is_an_msisdn() {
        assert_eq!(
            with(|u| u.phone_number = "12".into()),
            Err(UserError::PhoneNumber)
        );
        assert_eq!(
            with(|u| u.phone_number = "+4791234501".into()),
            Err(UserError::PhoneNumber)
        );
        assert_eq!(
            with(|u| u.phone_number = "".into()),
            Err(UserError::PhoneNumber)
        );
    }

    #[test]
    fn normalize_turns_typed_numbers_into_msisdns() {
        let mut user = kari();
        user.phone_number = "+47 912 34 501".into();
        user.normalize();
        assert_eq!(user.phone_number, "4791234501");
        assert_eq!(user.validate(), Ok(()));
        user.phone_number = "not a number".into();
        user.normalize();
        assert_eq!(user.phone_number, "not a number");
    }

    #[test]
    fn names_have_1_to_100_characters() {
        assert_eq!(
            with(|u| u.given_name = "".into()),
            Err(UserError::GivenName)
        );
        assert_eq!(
            with(|u| u.given_name = "  ".into()),
            Err(UserError::GivenName)
        );
        assert_eq!(
            with(|u| u.family_name = "".into()),
            Err(UserError::FamilyName)
        );
        assert_eq!(
            with(|u| u.family_name = "x".repeat(101)),
            Err(UserError::FamilyName)
        );
        // Characters, not bytes: 100 Nordic letters are 200 bytes.
        assert_eq!(with(|u| u.given_name = "Ø".repeat(100)), Ok(()));
        assert_eq!(
            with(|u| u.given_name = "Ø".repeat(101)),
            Err(UserError::GivenName)
        );
    }

    #[test]
    fn email_looks_like_an_address() {
        for bad in [
            "",
            "kari",
            "kari@",
            "@example.no",
            "kari@example",
            "kari@.example.no",
            "kari@example.no.",
            "kari@example..no",
            "kari@@example.no",
            "kari nordmann@example.no",
        ] {
            assert_eq!(
                with(|u| u.email = bad.into()),
                Err(UserError::Email),
                "{bad}"
            );
        }
        let long = format!("{}@example.no", "k".repeat(250));
        assert_eq!(with(|u| u.email = long), Err(UserError::Email));
        assert_eq!(
            with(|u| u.email = "kari.n+login@mail.example.no".into()),
            Ok(())
        );
    }

    #[test]
    fn birthdate_is_a_real_iso_date() {
        for bad in ["17.05.1990", "1958-3-14", "1958-02-30", "1958-13-01", ""] {
            assert_eq!(
                with(|u| u.birthdate = bad.into()),
                Err(UserError::Birthdate),
                "{bad}"
            );
        }
    }

    #[test]
    fn nin_matches_the_first_address_country_and_the_birthdate() {
        assert_eq!(
            with(|u| u.birthdate = "1958-03-15".into()),
            Err(UserError::Nin {
                country: "NO".into()
            })
        );
        // The first address decides the country, not a later one.
        assert_eq!(
            with(|u| u.addresses.insert(0, address("DK"))),
            Err(UserError::Nin {
                country: "DK".into()
            })
        );
        assert_eq!(with(|u| u.addresses.push(address("DK"))), Ok(()));
        assert_eq!(
            with(|u| u.addresses.clear()),
            Err(UserError::NinWithoutCountry)
        );
        // No NIN: nothing to check, with or without an address.
        assert_eq!(
            with(|u| {
                u.nin.clear();
                u.addresses.clear();
            }),
            Ok(())
        );
    }

    #[test]
    fn at_most_three_addresses() {
        assert_eq!(with(|u| u.addresses = vec![address("NO"); 3]), Ok(()));
        assert_eq!(
            with(|u| u.addresses = vec![address("NO"); 4]),
            Err(UserError::TooManyAddresses)
        );
    }

    #[test]
    fn country_codes_are_two_upper_case_letters() {
        for bad in ["no", "NOR", "N", "", "N0", "ØS"] {
            assert_eq!(
                with(|u| u.addresses.push(address(bad))),
                Err(UserError::Country { index: 1 }),
                "{bad}"
            );
        }
    }

    #[test]
    fn messages_name_the_field() {
        assert!(
            UserError::PhoneNumber
                .to_string()
                .starts_with("phone_number")
        );
        assert!(
            UserError::Country { index: 2 }
                .to_string()
                .starts_with("addresses[2].country")
        );
    }
}
