//! Seed data for test mode: a fixed set of demo users from Norway, Denmark
//! and Finland, plus validators for the three countries' national identity
//! numbers (Norwegian fødselsnummer, Danish CPR, Finnish HETU).
//!
//! Everything here is deterministic: [`demo_users`] returns the same users,
//! in the same order, on every call. The people are invented; their emails
//! use the `example.no` / `example.dk` / `example.fi` domains and their phone
//! numbers follow an easy-to-type pattern (`479123450N`, `452012340N`,
//! `35840123450N`). Every identity number is well-formed, carries valid check
//! digits and matches the user's birth date, so the data passes the same
//! validation as real users; for that very reason a number may also belong
//! to a real person, so none of this data may be sent to a real register.

use crate::user::{Address, AddressType, NewUser};

/// The demo users: five each from Norway, Denmark and Finland.
///
/// Each has one to three addresses (the first is the default), a phone
/// number in MSISDN form without `+`, a birth date between 1950 and 2005 and a
/// national identity number that [`is_valid_nin`] accepts for the user's
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

/// Whether `nin` is a valid national identity number for `country` and
/// belongs to someone born on `birthdate` (`YYYY-MM-DD`).
///
/// `country` is an ISO 3166-1 alpha-2 code, compared ignoring ASCII case:
/// `NO` checks a Norwegian fødselsnummer or D-number
/// ([`is_valid_norwegian_nin`]), `DK` a Danish CPR number
/// ([`is_valid_danish_cpr`]) and `FI` a Finnish HETU
/// ([`is_valid_finnish_hetu`]). The birth date encoded in the number,
/// century included, must equal `birthdate`. Any other country, or a
/// `birthdate` that is not a real `YYYY-MM-DD` date, gives `false`.
pub fn is_valid_nin(nin: &str, country: &str, birthdate: &str) -> bool {
    let Some(born) = parse_iso_date(birthdate) else {
        return false;
    };
    let encoded = if country.eq_ignore_ascii_case("NO") {
        norwegian_birthdate(nin)
    } else if country.eq_ignore_ascii_case("DK") {
        danish_birthdate(nin)
    } else if country.eq_ignore_ascii_case("FI") {
        finnish_birthdate(nin)
    } else {
        None
    };
    encoded == Some(born)
}

/// Whether `s` is a valid Norwegian national identity number: a
/// fødselsnummer, or a D-number (day of month plus 40).
///
/// Checks the format (exactly 11 ASCII digits `DDMMYYIIIKK`), both mod-11
/// check digits (weights `3 7 6 1 8 9 4 5 2` and `5 4 3 2 7 6 5 4 3 2`), that
/// the individual number `III` belongs to a range issued for the year `YY`
/// (000–499: 1900s; 500–749: 1854–1899; 500–999: 2000–2039; 900–999:
/// 1940–1999), and that the date is a real calendar date in that century.
pub fn is_valid_norwegian_nin(s: &str) -> bool {
    norwegian_birthdate(s).is_some()
}

/// Whether `s` is a valid Danish CPR number, written as 10 ASCII digits
/// `DDMMYYSSSS` without the dash.
///
/// Checks the format, the classic mod-11 check (weights
/// `4 3 2 7 6 5 4 3 2 1`, the weighted sum divisible by 11), and that the
/// date is a real calendar date in the century given by the 7th digit
/// (0–3: 1900s; 4 and 9: 2000–2036, else 1900s; 5–8: 2000–2057, else
/// 1858–1899).
///
/// Since 2007 Denmark also issues CPR numbers that fail the mod-11 check;
/// this validator rejects those, so it is only suitable where such numbers
/// are not expected (such as the demo data).
pub fn is_valid_danish_cpr(s: &str) -> bool {
    danish_birthdate(s).is_some()
}

/// Whether `s` is a valid Finnish personal identity code (HETU),
/// `DDMMYYCNNNT`.
///
/// Checks the format: six digits, a century sign (`+` for the 1800s; `-`,
/// `Y`, `X`, `W`, `V`, `U` for the 1900s; `A`, `B`, `C`, `D`, `E`, `F` for
/// the 2000s), an individual number `NNN` from 002 to 999 (900–999 are
/// temporary numbers), and an upper-case check character
/// `"0123456789ABCDEFHJKLMNPRSTUVWXY"[DDMMYYNNN mod 31]`; and that the date is
/// a real calendar date in that century.
pub fn is_valid_finnish_hetu(s: &str) -> bool {
    finnish_birthdate(s).is_some()
}

/// A calendar date, compared field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Date {
    year: u32,
    month: u32,
    day: u32,
}

impl Date {
    /// The date, if it exists in the (proleptic Gregorian) calendar.
    fn new(year: u32, month: u32, day: u32) -> Option<Date> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month)
            .contains(&day)
            .then_some(Date { year, month, day })
    }
}

/// The digits of `s` as numbers, if `s` is non-empty and all ASCII digits.
fn ascii_digits(s: &str) -> Option<Vec<u32>> {
    if s.is_empty() {
        return None;
    }
    s.chars().map(|c| c.to_digit(10)).collect()
}

/// The number that the given digits spell out in base 10.
fn number(digits: &[u32]) -> u32 {
    digits.iter().fold(0, |n, d| n * 10 + d)
}

/// A strict `YYYY-MM-DD` date.
fn parse_iso_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = number(&ascii_digits(s.get(0..4)?)?);
    let month = number(&ascii_digits(s.get(5..7)?)?);
    let day = number(&ascii_digits(s.get(8..10)?)?);
    Date::new(year, month, day)
}

/// A mod-11 check digit: `11 - (sum mod 11)`, with 11 becoming 0 and 10
/// meaning no valid digit exists.
fn mod11_check_digit(digits: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => Some(k),
    }
}

/// The birth date encoded in a valid Norwegian fødselsnummer or D-number.
fn norwegian_birthdate(s: &str) -> Option<Date> {
    let d = ascii_digits(s)?;
    if d.len() != 11 {
        return None;
    }
    let k1 = mod11_check_digit(&d[..9], &[3, 7, 6, 1, 8, 9, 4, 5, 2])?;
    let k2 = mod11_check_digit(&d[..10], &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2])?;
    if d[9] != k1 || d[10] != k2 {
        return None;
    }
    let mut day = number(&d[0..2]);
    if day > 40 {
        day -= 40; // D-number
    }
    let month = number(&d[2..4]);
    let yy = number(&d[4..6]);
    let individual = number(&d[6..9]);
    let century = match individual {
        0..=499 => 1900,
        500..=749 if yy >= 54 => 1800,
        500..=999 if yy <= 39 => 2000,
        900..=999 if yy >= 40 => 1900,
        _ => return None,
    };
    Date::new(century + yy, month, day)
}

/// Whether ten CPR digits pass the classic mod-11 check.
fn danish_mod11_ok(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .zip([4, 3, 2, 7, 6, 5, 4, 3, 2, 1])
        .map(|(d, w)| d * w)
        .sum();
    sum.is_multiple_of(11)
}

/// The birth date encoded in a valid Danish CPR number.
fn danish_birthdate(s: &str) -> Option<Date> {
    let d = ascii_digits(s)?;
    if d.len() != 10 {
        return None;
    }
    if !danish_mod11_ok(&d) {
        return None;
    }
    let yy = number(&d[4..6]);
    let century = match d[6] {
        0..=3 => 1900,
        4 | 9 if yy <= 36 => 2000,
        4 | 9 => 1900,
        _ if yy <= 57 => 2000,
        _ => 1800,
    };
    Date::new(century + yy, number(&d[2..4]), number(&d[0..2]))
}

/// The check characters of a Finnish HETU, indexed by the remainder mod 31.
const HETU_CHECK_CHARS: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// The birth date encoded in a valid Finnish HETU.
fn finnish_birthdate(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 11 {
        return None;
    }
    let date_digits = ascii_digits(s.get(0..6)?)?;
    let individual_digits = ascii_digits(s.get(7..10)?)?;
    let century = match b[6] {
        b'+' => 1800,
        b'-' | b'Y' | b'X' | b'W' | b'V' | b'U' => 1900,
        b'A' | b'B' | b'C' | b'D' | b'E' | b'F' => 2000,
        _ => return None,
    };
    let individual = number(&individual_digits);
    if individual < 2 {
        return None;
    }
    let n = number(&date_digits) * 1000 + individual;
    let expected = HETU_CHECK_CHARS.get((n % 31) as usize)?;
    if b[10] != *expected {
        return None;
    }
    Date::new(
        century + number(&date_digits[4..6]),
        number(&date_digits[2..4]),
        number(&date_digits[0..2]),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
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

    #[test]
    fn norwegian_validator() {
        // Known good: 1958-03-14, individual number 102, check digits 0 0.
        assert!(is_valid_norwegian_nin("14035810200"));
        assert!(is_valid_nin("14035810200", "NO", "1958-03-14"));
        assert!(is_valid_nin("14035810200", "no", "1958-03-14"));
        // Born 2001: individual number 541 (500–999 range).
        assert!(is_valid_nin("08090154150", "NO", "2001-09-08"));
        assert!(!is_valid_nin("08090154150", "NO", "1901-09-08"));
        // D-number: day + 40, same birth date.
        let d_number = "54035810032";
        assert!(is_valid_norwegian_nin(d_number));
        assert!(is_valid_nin(d_number, "NO", "1958-03-14"));
        // One check digit changed, either of them.
        assert!(!is_valid_norwegian_nin("14035810210"));
        assert!(!is_valid_norwegian_nin("14035810201"));
        // A changed date digit breaks the check digits.
        assert!(!is_valid_norwegian_nin("15035810200"));
        // Wrong shape.
        assert!(!is_valid_norwegian_nin("1403581020"));
        assert!(!is_valid_norwegian_nin("140358102000"));
        assert!(!is_valid_norwegian_nin("140358 10200"));
        assert!(!is_valid_norwegian_nin(""));
        assert!(!is_valid_nin("14035810200", "NO", "1958-3-14"));
        assert!(!is_valid_nin("14035810200", "SE", "1958-03-14"));
    }

    /// Appends both Norwegian check digits to nine digits, if they exist.
    fn norwegian_with_check_digits(nine: &str) -> Option<String> {
        let d = ascii_digits(nine)?;
        let k1 = mod11_check_digit(&d, &[3, 7, 6, 1, 8, 9, 4, 5, 2])?;
        let mut ten = d.clone();
        ten.push(k1);
        let k2 = mod11_check_digit(&ten, &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2])?;
        Some(format!("{nine}{k1}{k2}"))
    }

    #[test]
    fn norwegian_validator_checks_calendar_and_century() {
        // 29 February exists in 2000 and 1996 but not in 1900 or 2001.
        let leap_ok = (500..1000)
            .find_map(|i| norwegian_with_check_digits(&format!("290200{i:03}")))
            .unwrap();
        assert!(is_valid_nin(&leap_ok, "NO", "2000-02-29"));
        let not_leap = (0..500)
            .find_map(|i| norwegian_with_check_digits(&format!("290201{i:03}")))
            .unwrap();
        assert!(!is_valid_norwegian_nin(&not_leap));
        let not_leap_1900 = (0..500)
            .find_map(|i| norwegian_with_check_digits(&format!("290200{i:03}")))
            .unwrap();
        assert!(!is_valid_norwegian_nin(&not_leap_1900));
        // 13th month.
        let bad_month = (0..500)
            .find_map(|i| norwegian_with_check_digits(&format!("011380{i:03}")))
            .unwrap();
        assert!(!is_valid_norwegian_nin(&bad_month));
        // Individual number 800 was never issued for a year 40–99.
        let no_century = norwegian_with_check_digits("010180800")
            .or_else(|| norwegian_with_check_digits("010180802"))
            .unwrap();
        assert!(!is_valid_norwegian_nin(&no_century));
    }

    #[test]
    fn danish_validator() {
        // Known good: 1961-07-07; 7th digit 4 with year 61 means 1900s.
        assert!(is_valid_danish_cpr("0707614285"));
        assert!(is_valid_nin("0707614285", "DK", "1961-07-07"));
        assert!(!is_valid_nin("0707614285", "DK", "2061-07-07"));
        // Born 2003, 7th digit 4.
        assert!(is_valid_nin("2802034019", "DK", "2003-02-28"));
        assert!(!is_valid_nin("2802034019", "DK", "1903-02-28"));
        // One digit changed.
        assert!(!is_valid_danish_cpr("0707614286"));
        assert!(!is_valid_danish_cpr("0707614284"));
        // Dash form and wrong lengths are not accepted.
        assert!(!is_valid_danish_cpr("070761-4285"));
        assert!(!is_valid_danish_cpr("070761428"));
        assert!(!is_valid_danish_cpr(""));
        // 31 April does not exist, even with a passing mod-11 sum.
        let bad_date = (0..10_000)
            .map(|s| format!("310485{s:04}"))
            .find(|c| danish_mod11_ok(&ascii_digits(c).unwrap()))
            .unwrap();
        assert!(!is_valid_danish_cpr(&bad_date));
    }

    #[test]
    fn finnish_validator() {
        // Known good (the example used by the Finnish authorities).
        assert!(is_valid_finnish_hetu("131052-308T"));
        assert!(is_valid_nin("131052-308T", "FI", "1952-10-13"));
        // The 2023 alternative century signs encode the same dates.
        assert!(is_valid_nin("131052Y308T", "FI", "1952-10-13"));
        assert!(is_valid_nin("090305A444U", "FI", "2005-03-09"));
        assert!(is_valid_nin("090305B444U", "FI", "2005-03-09"));
        assert!(!is_valid_nin("090305-444U", "FI", "2005-03-09"));
        // Check character changed, individual number changed.
        assert!(!is_valid_finnish_hetu("131052-308U"));
        assert!(!is_valid_finnish_hetu("131052-309T"));
        // Lower-case check character, bad century sign, bad shapes.
        assert!(!is_valid_finnish_hetu("090305A444u"));
        assert!(!is_valid_finnish_hetu("131052G308T"));
        assert!(!is_valid_finnish_hetu("131052308T"));
        assert!(!is_valid_finnish_hetu("131052--308T"));
        assert!(!is_valid_finnish_hetu(""));
        // Individual numbers 000 and 001 are not used.
        let n = 131_052_001_u32;
        let c = HETU_CHECK_CHARS[(n % 31) as usize] as char;
        assert!(!is_valid_finnish_hetu(&format!("131052-001{c}")));
        // 30 February.
        let n = 300_252_308_u32;
        let c = HETU_CHECK_CHARS[(n % 31) as usize] as char;
        assert!(!is_valid_finnish_hetu(&format!("300252-308{c}")));
        // Multi-byte input of the right byte length is rejected, not a panic.
        assert!(!is_valid_finnish_hetu("13105ø308T"));
    }

    #[test]
    fn iso_dates_are_strict() {
        assert!(parse_iso_date("2000-02-29").is_some());
        assert!(parse_iso_date("1900-02-29").is_none());
        assert!(parse_iso_date("2001-13-01").is_none());
        assert!(parse_iso_date("2001-00-10").is_none());
        assert!(parse_iso_date("2001-01-00").is_none());
        assert!(parse_iso_date("2001/01/01").is_none());
        assert!(parse_iso_date("01-01-2001").is_none());
        assert!(parse_iso_date("2001-1-011").is_none());
    }
}
