//! Phone numbers (MSISDN): normalizing what a person types, and validating the digits
//! a merchant sends.

/// Country calling codes Nod knows, with the number of national digits they take.
const COUNTRIES: &[(&str, usize, usize)] = &[
    ("47", 8, 8),   // Norway
    ("45", 8, 8),   // Denmark
    ("46", 7, 9),   // Sweden
    ("358", 5, 10), // Finland
];

/// Validates an MSISDN: a known country code followed by a national number of the
/// right length, digits only, no `+`.
pub fn is_valid(msisdn: &str) -> bool {
    if msisdn.is_empty() || !msisdn.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    COUNTRIES.iter().any(|(cc, min, max)| {
        msisdn
            .strip_prefix(cc)
            .is_some_and(|rest| (*min..=*max).contains(&rest.len()) && !rest.starts_with('0'))
    })
}

/// Turns what a person typed (`+47 912 34 567`, `(+47) 912 34 567`, `0047…`, `91234567`)
/// into an MSISDN. A bare eight-digit number is taken as Norwegian, unless it is a whole
/// MSISDN already (`358` and five digits): an MSISDN always normalizes to itself. `None`
/// when it is not a phone number.
pub fn normalize(input: &str) -> Option<String> {
    let trimmed = input.trim();
    if trimmed.len() > 32 {
        return None;
    }
    let mut digits = String::with_capacity(16);
    let mut plus = false;
    for c in trimmed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            // Before the first digit only: `+47`, `(+47)`.
            '+' if digits.is_empty() && !plus => plus = true,
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let msisdn = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if digits.len() == 8 && !is_valid(&digits) {
        format!("47{digits}")
    } else {
        digits
    };
    is_valid(&msisdn).then_some(msisdn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_typed_numbers() {
        assert_eq!(normalize("+47 912 34 567").as_deref(), Some("4791234567"));
        assert_eq!(normalize("0047 91234567").as_deref(), Some("4791234567"));
        assert_eq!(normalize("91234567").as_deref(), Some("4791234567"));
        assert_eq!(normalize("4591234567").as_deref(), Some("4591234567"));
        assert_eq!(
            normalize("+358 40 1234567").as_deref(),
            Some("358401234567")
        );
        assert_eq!(normalize("(+47) 912 34 503").as_deref(), Some("4791234503"));
        assert_eq!(normalize("+(47) 91234503").as_deref(), Some("4791234503"));
        assert_eq!(normalize("47+91234503"), None, "a plus after a digit");
        assert_eq!(normalize("++4791234503"), None);
        assert_eq!(normalize("abc"), None);
        assert_eq!(normalize("+1 555 1234"), None);
        assert_eq!(normalize("4791234"), None);
        assert_eq!(normalize(""), None);
    }

    /// Found by fuzzing (fuzz target `phone_nin`): `0035854333` is the Finnish MSISDN
    /// `35854333`, which, typed again (or imported, or looked up by `nod user show`), was
    /// taken as the Norwegian `4735854333`: someone else's number.
    #[test]
    fn an_msisdn_normalizes_to_itself() {
        assert_eq!(normalize("0035854333").as_deref(), Some("35854333"));
        assert_eq!(normalize("35854333").as_deref(), Some("35854333"));
        assert_eq!(normalize("+35854333").as_deref(), Some("35854333"));
        assert_eq!(normalize("912 34 567").as_deref(), Some("4791234567"));
        for msisdn in ["4791234567", "4591234567", "46701234567", "358401234567"] {
            assert_eq!(normalize(msisdn).as_deref(), Some(msisdn));
        }
    }

    #[test]
    fn validates_msisdns() {
        assert!(is_valid("4791234567"));
        assert!(!is_valid("+4791234567"));
        assert!(!is_valid("479123456"));
        assert!(!is_valid("47912345678"));
        assert!(!is_valid("9991234567"));
    }
}
