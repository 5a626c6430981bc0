//! National identity numbers: the Norwegian fødselsnummer and D-number, the Danish CPR
//! number and the Finnish personal identity code (HETU), each checked for its format,
//! its check digits and the birth date it encodes.

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
pub(crate) struct Date {
    pub(crate) year: u32,
    pub(crate) month: u32,
    pub(crate) day: u32,
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
pub(crate) fn parse_iso_date(s: &str) -> Option<Date> {
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
mod tests {
    use super::*;

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
