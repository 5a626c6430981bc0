//! URIs a sales unit registers (redirect URIs, the CIBA notification endpoint, the
//! webhook URL; checked by `SalesUnit::validate`) and a merchant registers through the
//! webhooks API (`webhook::check_url`), and the redirect Nod then builds from a
//! registered redirect URI (`links::with_params`).
//!
//! Checks: nothing panics; an accepted redirect URI is absolute, at most 2000 bytes, has
//! no fragment and no scheme a browser must never be sent to, and is `http` only to the
//! loopback interface; an accepted webhook URL is `http(s)`; a redirect built from an
//! accepted URI parses, keeps its scheme, host and path, and carries `code` and `state`
//! back exactly as given (whatever characters `state` holds).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nod_core::sales_unit::{AuthMethod, CibaMode, SalesUnit};
use nod_core::{links, webhook};

fn unit() -> SalesUnit {
    SalesUnit {
        client_id: "shop".into(),
        secret_hash: vec![0; 32],
        name: "Shop".into(),
        redirect_uris: vec!["https://shop.example/cb".into()],
        auth_method: AuthMethod::ClientSecretBasic,
        msn: None,
        allow_nin: false,
        ciba_mode: CibaMode::Poll,
        ciba_notification_endpoint: None,
        webhook_url: None,
        consent_texts: None,
        created_at: 0,
    }
}

const DANGEROUS: &[&str] = &["javascript", "data", "vbscript", "file", "about", "blob"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `uri` or `uri\nstate`.
    let (uri, state) = text.split_once('\n').unwrap_or((text, "af0ifjsldkj"));

    let mut unit = unit();
    unit.redirect_uris = vec![uri.to_owned()];
    if unit.validate().is_ok() {
        assert!(uri.len() <= 2000);
        let parsed = url::Url::parse(uri).expect("an accepted redirect URI parses");
        assert!(parsed.fragment().is_none());
        assert!(!DANGEROUS.contains(&parsed.scheme()), "{uri}");
        if parsed.scheme() == "http" {
            let loopback = match parsed.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            assert!(loopback, "{uri}");
        }

        let redirect = links::with_params(uri, &[("code", "c0de"), ("state", state)])
            .expect("a redirect to an accepted URI");
        let back = url::Url::parse(&redirect).expect("the redirect parses");
        assert_eq!(back.scheme(), parsed.scheme());
        assert_eq!(back.host(), parsed.host());
        assert_eq!(back.path(), parsed.path());
        let pairs: Vec<(String, String)> = back.query_pairs().into_owned().collect();
        let get = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("code"), Some("c0de"));
        assert_eq!(get("state"), Some(state), "{redirect}");
    }

    let mut unit = self::unit();
    unit.webhook_url = Some(uri.to_owned());
    if unit.validate().is_ok() {
        assert!(uri.starts_with("http://") || uri.starts_with("https://"));
        assert!(url::Url::parse(uri).is_ok_and(|u| u.fragment().is_none()));
    }
    let mut unit = self::unit();
    unit.ciba_notification_endpoint = Some(uri.to_owned());
    if unit.validate().is_ok() {
        assert!(url::Url::parse(uri).is_ok_and(|u| u.fragment().is_none()));
    }

    if webhook::check_url(uri).is_ok() {
        let parsed = url::Url::parse(uri).expect("an accepted webhook URL parses");
        assert!(matches!(parsed.scheme(), "http" | "https"));
        assert!(parsed.host_str().is_some_and(|h| !h.is_empty()));
        assert!(parsed.fragment().is_none());
        assert!(parsed.username().is_empty() && parsed.password().is_none());
    }
});
