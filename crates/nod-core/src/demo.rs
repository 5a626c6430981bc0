//! Seed data for test mode: a fixed set of demo users from Norway, Denmark
//! and Finland.
//!
//! Everything here is deterministic: [`demo_users`] returns the same users,
//! in the same order, on every call. The people are invented; their emails
//! use the `example.no` / `example.dk` / `example.fi` domains and their phone
//! numbers follow an easy-to-type pattern (`479123450N`, `452012340N`,
//! `35840123450N`). Every identity number is well-formed, carries valid check
//! digits and matches the user's birth date, so the data passes the same
//! validation as real users; for that very reason a number may also belong
//! to a real person, so none of this data may be sent to a real register.

use crate::Timestamp;
use crate::user::{Address, AddressType, NewUser, User};

/// A demo user for a case a merchant's integration must handle (SPEC §8).
#[derive(Debug, Clone)]
pub struct SpecialDemoUser {
    pub user: NewUser,
    /// Whether the account is active (an inactive one gets `invalid_user`).
    pub active: bool,
    /// What is special about them, as the test app and the docs say it.
    pub case: &'static str,
}

/// The special demo users, Norwegian, phones `479123451N`:
///
/// - `4791234510`, born 2016-08-21: under 15 until 2031-08-21, so no login reaches them
///   (`invalid_user` for a merchant-initiated login);
/// - `4791234511`: the e-mail is not verified (`email_verified: false`);
/// - `4791234512`: no address (userinfo's `address` has every field `""`), and so no
///   national identity number (its country comes from the first address);
/// - `4791234513`: inactive (`invalid_user`; a browser login waits for nobody).
pub fn special_demo_users() -> Vec<SpecialDemoUser> {
    use AddressType::Home;
    let special = |user, active, case| SpecialDemoUser { user, active, case };
    vec![
        special(
            user(
                "Emil",
                "Haugen",
                "emil.haugen@example.no",
                "4791234510",
                "2016-08-21",
                "21081651296",
                vec![addr("Bygdøy allé 9", "0257", "Oslo", "NO", Home)],
            ),
            true,
            "under 15",
        ),
        special(
            NewUser {
                email_verified: false,
                ..user(
                    "Sofie",
                    "Lunde",
                    "sofie.lunde@example.no",
                    "4791234511",
                    "1994-02-03",
                    "03029423198",
                    vec![addr("Torgallmenningen 2", "5014", "Bergen", "NO", Home)],
                )
            },
            true,
            "e-mail not verified",
        ),
        special(
            user(
                "Henrik",
                "Berg",
                "henrik.berg@example.no",
                "4791234512",
                "1985-10-12",
                "",
                vec![],
            ),
            true,
            "no address",
        ),
        special(
            user(
                "Nora",
                "Dahl",
                "nora.dahl@example.no",
                "4791234513",
                "1967-07-30",
                "30076711581",
                vec![addr("Dronningens gate 10", "7011", "Trondheim", "NO", Home)],
            ),
            false,
            "inactive",
        ),
    ]
}

/// Every demo user as test mode stores them: [`demo_users`] and then
/// [`special_demo_users`] (the inactive one inactive), created at `now`.
pub fn seed_users(now: Timestamp) -> Vec<User> {
    let regular = demo_users().into_iter().map(|u| User::new(u, now));
    let special = special_demo_users().into_iter().map(|s| User {
        active: s.active,
        ..User::new(s.user, now)
    });
    regular.chain(special).collect()
}

/// The demo users: five each from Norway, Denmark and Finland.
///
/// Each has one to three addresses (the first is the default), a phone
/// number in MSISDN form without `+`, a birth date between 1950 and 2005 and a
/// national identity number that [`crate::nin::is_valid_nin`] accepts for the user's
/// country and birth date.
pub fn demo_users() -> Vec<NewUser> {
    use AddressType::{Home, Other, Work};
    vec![
        // Norway: fødselsnummer, phones 47 9123450N.
        user(
            "Ingrid",
            "Solberg",
            "ingrid.solberg@example.no",
            "4791234501",
            "1958-03-14",
            "14035810200",
            vec![
                addr("Thereses gate 12", "0168", "Oslo", "NO", Home),
                addr("Karl Johans gate 22", "0159", "Oslo", "NO", Work),
            ],
        ),
        user(
            "Ørjan",
            "Bjørnstad",
            "orjan.bjornstad@example.no",
            "4791234502",
            "1972-11-02",
            "02117221531",
            vec![addr("Kong Oscars gate 40", "5017", "Bergen", "NO", Home)],
        ),
        user(
            "Siri",
            "Åsheim",
            "siri.asheim@example.no",
            "4791234503",
            "1989-06-25",
            "25068932818",
            vec![
                addr("Munkegata 5", "7011", "Trondheim", "NO", Home),
                addr("Storgata 15", "9008", "Tromsø", "NO", Other),
            ],
        ),
        user(
            "Magnus",
            "Hægeland",
            "magnus.haegeland@example.no",
            "4791234504",
            "2001-09-08",
            "08090154150",
            vec![addr("Markens gate 18", "4611", "Kristiansand", "NO", Home)],
        ),
        user(
            "Astrid",
            "Lie",
            "astrid.lie@example.no",
            "4791234505",
            "1951-12-19",
            "19125144651",
            vec![
                addr("Kirkegata 3", "4006", "Stavanger", "NO", Home),
                addr("Lagårdsveien 46", "4010", "Stavanger", "NO", Work),
                addr("Storgata 15", "9008", "Tromsø", "NO", Other),
            ],
        ),
        // Denmark: CPR, phones 45 2012340N.
        user(
            "Mette",
            "Sørensen",
            "mette.sorensen@example.dk",
            "4520123401",
            "1963-04-17",
            "1704631258",
            vec![
                addr("Nørrebrogade 45", "2200", "København N", "DK", Home),
                addr("Vesterbrogade 10", "1620", "København V", "DK", Work),
            ],
        ),
        user(
            "Jens",
            "Kjær",
            "jens.kjaer@example.dk",
            "4520123402",
            "1955-08-09",
            "0908551001",
            vec![
                addr("Søndergade 20", "8000", "Aarhus C", "DK", Home),
                addr("Strandvejen 12", "9990", "Skagen", "DK", Other),
            ],
        ),
        user(
            "Freja",
            "Møller",
            "freja.moller@example.dk",
            "4520123403",
            "1994-12-03",
            "0312942100",
            vec![
                addr("Vestergade 7", "5000", "Odense C", "DK", Home),
                addr("Overgade 30", "5000", "Odense C", "DK", Work),
            ],
        ),
        user(
            "Mikkel",
            "Andersen",
            "mikkel.andersen@example.dk",
            "4520123404",
            "2003-02-28",
            "2802034019",
            vec![addr("Boulevarden 15", "9000", "Aalborg", "DK", Home)],
        ),
        user(
            "Emma",
            "Nielsen",
            "emma.nielsen@example.dk",
            "4520123405",
            "1980-07-21",
            "2107803028",
            vec![
                addr("Jernbanegade 3", "6000", "Kolding", "DK", Home),
                addr("Algade 25", "4000", "Roskilde", "DK", Work),
            ],
        ),
        // Finland: HETU, phones 358 40 123450N (and one 50).
        user(
            "Aino",
            "Virtanen",
            "aino.virtanen@example.fi",
            "358401234501",
            "1952-10-13",
            "131052-1025",
            vec![
                addr("Mannerheimintie 12", "00100", "Helsinki", "FI", Home),
                addr("Aleksanterinkatu 15", "00100", "Helsinki", "FI", Work),
            ],
        ),
        user(
            "Matti",
            "Mäkinen",
            "matti.makinen@example.fi",
            "358401234502",
            "1967-05-05",
            "050567-215F",
            vec![addr("Hämeenkatu 20", "33200", "Tampere", "FI", Home)],
        ),
        user(
            "Jukka",
            "Törmänen",
            "jukka.tormanen@example.fi",
            "358401234503",
            "1985-01-22",
            "220185-331L",
            vec![
                addr("Yliopistonkatu 8", "20100", "Turku", "FI", Home),
                addr("Hallituskatu 10", "90100", "Oulu", "FI", Other),
            ],
        ),
        user(
            "Emilia",
            "Koskinen",
            "emilia.koskinen@example.fi",
            "358401234504",
            "2005-03-09",
            "090305A444U",
            vec![addr("Kauppakatu 15", "40100", "Jyväskylä", "FI", Home)],
        ),
        user(
            "Sanna",
            "Lehtonen",
            "sanna.lehtonen@example.fi",
            "358501234505",
            "1978-08-16",
            "160878-556U",
            vec![
                addr("Aleksanterinkatu 18", "15110", "Lahti", "FI", Home),
                addr("Otakaari 1", "02150", "Espoo", "FI", Work),
            ],
        ),
    ]
}

fn user(
    given_name: &str,
    family_name: &str,
    email: &str,
    phone_number: &str,
    birthdate: &str,
    nin: &str,
    addresses: Vec<Address>,
) -> NewUser {
    NewUser {
        phone_number: phone_number.to_owned(),
        given_name: given_name.to_owned(),
        family_name: family_name.to_owned(),
        email: email.to_owned(),
        birthdate: birthdate.to_owned(),
        nin: nin.to_owned(),
        addresses,
        email_verified: true,
    }
}

fn addr(
    street_address: &str,
    postal_code: &str,
    region: &str,
    country: &str,
    address_type: AddressType,
) -> Address {
    Address {
        street_address: street_address.to_owned(),
        postal_code: postal_code.to_owned(),
        region: region.to_owned(),
        country: country.to_owned(),
        address_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nin::{
        is_valid_danish_cpr, is_valid_finnish_hetu, is_valid_nin, is_valid_norwegian_nin,
        parse_iso_date,
    };
    use std::collections::HashSet;

    /// The user's country, from the domain of their email.
    fn country_of(u: &NewUser) -> &'static str {
        match u.email.rsplit('@').next().unwrap() {
            "example.no" => "NO",
            "example.dk" => "DK",
            "example.fi" => "FI",
            other => panic!("unexpected email domain {other} for {}", u.email),
        }
    }

    fn all_digits(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
    }

    fn phone_format_ok(phone: &str, country: &str) -> bool {
        if !all_digits(phone) {
            return false;
        }
        match country {
            "NO" => {
                phone.len() == 10
                    && phone.starts_with("47")
                    && matches!(phone.as_bytes()[2], b'4' | b'9')
            }
            "DK" => {
                phone.len() == 10
                    && phone.starts_with("45")
                    && matches!(phone.as_bytes()[2], b'2'..=b'6')
            }
            "FI" => {
                phone.len() == 12
                    && phone.starts_with("358")
                    && (phone.as_bytes()[3] == b'4' || phone[3..].starts_with("50"))
            }
            _ => false,
        }
    }

    fn transliterate(s: &str) -> String {
        s.to_lowercase()
            .chars()
            .map(|c| match c {
                'ø' | 'ö' => "o".to_owned(),
                'æ' => "ae".to_owned(),
                'å' | 'ä' => "a".to_owned(),
                c => c.to_string(),
            })
            .collect()
    }

    #[test]
    fn demo_users_is_deterministic() {
        assert_eq!(demo_users(), demo_users());
    }

    #[test]
    fn at_least_twelve_users_four_per_country() {
        let users = demo_users();
        assert!(users.len() >= 12);
        for country in ["NO", "DK", "FI"] {
            let n = users.iter().filter(|u| country_of(u) == country).count();
            assert!(n >= 4, "{country} has only {n} users");
        }
    }

    #[test]
    fn phone_numbers_are_distinct_and_well_formed() {
        let users = demo_users();
        let mut seen = HashSet::new();
        for u in &users {
            assert!(
                phone_format_ok(&u.phone_number, country_of(u)),
                "bad phone {} for {}",
                u.phone_number,
                u.email
            );
            assert!(seen.insert(&u.phone_number), "dup {}", u.phone_number);
        }
    }

    #[test]
    fn phone_format_check_rejects_bad_numbers() {
        assert!(!phone_format_ok("+4791234501", "NO"));
        assert!(!phone_format_ok("4721234501", "NO"));
        assert!(!phone_format_ok("479123450", "NO"));
        assert!(!phone_format_ok("4510123401", "DK"));
        assert!(!phone_format_ok("358201234501", "FI"));
        assert!(phone_format_ok("358501234505", "FI"));
    }

    #[test]
    fn emails_are_distinct_lowercase_ascii_and_match_names() {
        let users = demo_users();
        let mut seen = HashSet::new();
        for u in &users {
            assert!(seen.insert(&u.email), "dup {}", u.email);
            assert!(
                u.email
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b"@.".contains(&b)),
                "{}",
                u.email
            );
            let domain = format!("example.{}", country_of(u).to_lowercase());
            let expected = format!(
                "{}.{}@{domain}",
                transliterate(&u.given_name),
                transliterate(&u.family_name)
            );
            assert_eq!(u.email, expected);
        }
    }

    #[test]
    fn some_names_have_nordic_letters() {
        let users = demo_users();
        for letter in ['ø', 'æ', 'å', 'ä', 'ö'] {
            let lower = |s: &str| s.to_lowercase();
            assert!(
                users.iter().any(|u| lower(&u.given_name).contains(letter)
                    || lower(&u.family_name).contains(letter)),
                "no name has {letter}"
            );
        }
    }

    #[test]
    fn addresses_are_plausible() {
        let users = demo_users();
        let mut types = HashSet::new();
        for u in &users {
            let country = country_of(u);
            assert!((1..=3).contains(&u.addresses.len()), "{}", u.email);
            for a in &u.addresses {
                assert_eq!(a.country, country, "{}", u.email);
                let code_len = if country == "FI" { 5 } else { 4 };
                assert!(all_digits(&a.postal_code), "{}", a.postal_code);
                assert_eq!(a.postal_code.len(), code_len, "{}", a.postal_code);
                assert!(!a.street_address.trim().is_empty());
                assert!(!a.region.trim().is_empty());
                types.insert(format!("{:?}", a.address_type));
            }
        }
        assert_eq!(types.len(), 3, "home, work and other all used");
    }

    #[test]
    fn birthdates_are_real_and_spread_1950_to_2005() {
        let users = demo_users();
        let years: Vec<u32> = users
            .iter()
            .map(|u| parse_iso_date(&u.birthdate).unwrap().year)
            .collect();
        assert!(years.iter().all(|y| (1950..=2005).contains(y)));
        assert!(years.iter().any(|y| *y < 1960));
        assert!(years.iter().any(|y| *y >= 2000));
    }

    #[test]
    fn the_special_users_are_valid_and_each_is_what_it_says() {
        let special = special_demo_users();
        for s in &special {
            assert_eq!(s.user.validate(), Ok(()), "{}", s.case);
        }
        let by_case = |case| {
            special
                .iter()
                .find(|s| s.case == case)
                .map(|s| User {
                    active: s.active,
                    ..User::new(s.user.clone(), 0)
                })
                .unwrap()
        };
        // 2027-01-15, when the server tests' clock starts, and 2031-08-20.
        for now in [1_800_000_000, 1_944_950_400] {
            let child = by_case("under 15");
            assert!(child.active && !child.may_log_in(now));
        }
        assert!(!by_case("e-mail not verified").email_verified);
        assert!(by_case("no address").addresses.is_empty());
        assert!(!by_case("inactive").active);
        let regular = demo_users().len();
        let seeded = seed_users(0);
        assert_eq!(seeded.len(), regular + special.len());
        let phones: HashSet<_> = seeded.iter().map(|u| u.phone_number.clone()).collect();
        assert_eq!(phones.len(), seeded.len(), "phone numbers are distinct");
        let usable = seeded
            .iter()
            .filter(|u| u.may_log_in(1_800_000_000))
            .count();
        assert_eq!(
            usable,
            regular + 2,
            "all but the child and the inactive one"
        );
    }

    #[test]
    fn every_nin_is_valid_for_its_user() {
        let users = demo_users();
        let mut seen = HashSet::new();
        for u in &users {
            let country = country_of(u);
            assert!(
                is_valid_nin(&u.nin, country, &u.birthdate),
                "{} {} for {country} born {}",
                u.email,
                u.nin,
                u.birthdate
            );
            let specific = match country {
                "NO" => is_valid_norwegian_nin(&u.nin),
                "DK" => is_valid_danish_cpr(&u.nin),
                _ => is_valid_finnish_hetu(&u.nin),
            };
            assert!(specific, "{}", u.nin);
            assert!(seen.insert(&u.nin), "dup {}", u.nin);
            // Not valid for another birth date or another country.
            assert!(!is_valid_nin(&u.nin, country, "1949-01-01"));
            for other in ["NO", "DK", "FI"].into_iter().filter(|c| *c != country) {
                assert!(!is_valid_nin(&u.nin, other, &u.birthdate), "{}", u.nin);
            }
        }
    }
}
