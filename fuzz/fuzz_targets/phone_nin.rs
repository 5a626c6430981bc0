//! Phone numbers as a person types them (login page, app registration) and as a merchant
//! sends them; national identity numbers with a birth date; activation codes.
//!
//! Checks: nothing panics; a typed number normalizes to a valid MSISDN, which normalizes
//! to itself again, with or without `+`; a valid MSISDN is digits only with a known
//! country code; a national identity number that is valid for a birth date is valid for
//! its country's own check; an activation code's canonical form is 12 characters of its
//! alphabet and canonical itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nod_core::{crypto, msisdn, nin};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Some(number) = msisdn::normalize(text) {
        assert!(msisdn::is_valid(&number), "{number}");
        assert_eq!(
            msisdn::normalize(&format!("+{number}")).as_deref(),
            Some(number.as_str())
        );
        assert_eq!(
            msisdn::normalize(&number).as_deref(),
            Some(number.as_str()),
            "{text:?}"
        );
    }
    if msisdn::is_valid(text) {
        assert!(text.bytes().all(|b| b.is_ascii_digit()) && (8..=13).contains(&text.len()));
        assert_eq!(
            msisdn::normalize(&format!("+{text}")).as_deref(),
            Some(text)
        );
    }

    // `nin|country|birthdate`, or the whole input as a number of each country.
    let mut parts = text.splitn(3, '|');
    let (number, country, birthdate) = (parts.next(), parts.next(), parts.next());
    if let (Some(number), Some(country), Some(birthdate)) = (number, country, birthdate)
        && nin::is_valid_nin(number, country, birthdate)
    {
        let own_check = match country.to_ascii_uppercase().as_str() {
            "NO" => nin::is_valid_norwegian_nin(number),
            "DK" => nin::is_valid_danish_cpr(number),
            "FI" => nin::is_valid_finnish_hetu(number),
            other => panic!("valid for unknown country {other}"),
        };
        assert!(own_check);
        assert!(birthdate.len() == 10);
    }
    if nin::is_valid_norwegian_nin(text) {
        assert!(text.len() == 11 && text.bytes().all(|b| b.is_ascii_digit()));
    }
    if nin::is_valid_danish_cpr(text) {
        assert!(text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit()));
    }
    if nin::is_valid_finnish_hetu(text) {
        assert!(text.len() == 11 && text.is_ascii());
    }

    if let Some(code) = crypto::normalize_activation_code(text) {
        assert_eq!(code.len(), 12);
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        );
        assert_eq!(
            crypto::normalize_activation_code(&code).as_deref(),
            Some(code.as_str())
        );
    }
});
