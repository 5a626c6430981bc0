//! Links and labels a login is made of: redirect URIs with parameters added, the deep
//! link that opens the app and its ticket, and what a user agent says about the browser.

use crate::Timestamp;

/// `uri` with parameters added to its query; `None` when it is not a URL.
pub fn with_params(uri: &str, params: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(uri).ok()?;
    url.query_pairs_mut().extend_pairs(params);
    Some(url.into())
}

/// The deep link that opens the app for a login ticket: the template with `{ticket}`
/// replaced, or the test app's page under `base`.
pub fn deep_link(template: Option<&str>, base: &str, ticket: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(ticket.as_bytes()).collect();
    match template {
        Some(template) => template.replace("{ticket}", &encoded),
        None => format!("{base}/test-app/open?ticket={encoded}"),
    }
}

/// Whether a browser is on a phone: it opens the app with a deep link instead of asking
/// for a phone number.
pub fn is_mobile(user_agent: &str) -> bool {
    ["Mobi", "Android", "iPhone", "iPad"]
        .iter()
        .any(|m| user_agent.contains(m))
}

/// A short name for a browser, from its user agent, for the list of remembered browsers.
pub fn browser_label(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map_or("Browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}
/// How long after the login page showed a deep link its ticket may be opened, seconds:
/// long enough to tap the link on the same phone, short enough that a link sent to
/// someone else is stale by the time they would act on it.
pub const TICKET_LIFETIME: Timestamp = 120;

/// A new deep-link ticket: a random secret and the time it was made. Only the hash of
/// the whole ticket is stored, so the time cannot be changed without the ticket failing.
pub fn new_ticket(now: Timestamp) -> String {
    format!("{}.{now}", crate::crypto::random_secret())
}

/// Whether a ticket may still be opened at `now` ([`TICKET_LIFETIME`]); false for
/// anything that is not a ticket.
pub fn ticket_is_fresh(ticket: &str, now: Timestamp) -> bool {
    ticket
        .rsplit_once('.')
        .and_then(|(secret, made)| {
            (secret.len() == 43 && made.bytes().all(|b| b.is_ascii_digit()))
                .then(|| made.parse::<Timestamp>().ok())
                .flatten()
        })
        .is_some_and(|made| (0..=TICKET_LIFETIME).contains(&(now - made)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_mobile() {
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
        assert!(is_mobile(android));
        assert_eq!(browser_label(android), "Chrome on Android");
        let desktop = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert!(!is_mobile(desktop));
        assert_eq!(browser_label(desktop), "Firefox on Linux");
        assert_eq!(browser_label(""), "Browser");
    }

    #[test]
    fn urls_keep_existing_query() {
        assert_eq!(
            with_params("https://a.example/cb?x=1", &[("code", "a b")]).as_deref(),
            Some("https://a.example/cb?x=1&code=a+b")
        );
        assert!(with_params("not a url", &[]).is_none());
    }

    #[test]
    fn deep_links_encode_the_ticket() {
        assert_eq!(
            deep_link(None, "http://nod", "a+b"),
            "http://nod/test-app/open?ticket=a%2Bb"
        );
        assert_eq!(
            deep_link(Some("nodapp://open/{ticket}"), "http://nod", "t"),
            "nodapp://open/t"
        );
    }

    #[test]
    fn tickets_carry_their_time() {
        let ticket = new_ticket(1_000);
        assert!(ticket_is_fresh(&ticket, 1_000));
        assert!(ticket_is_fresh(&ticket, 1_000 + TICKET_LIFETIME));
        assert!(!ticket_is_fresh(&ticket, 1_001 + TICKET_LIFETIME), "stale");
        assert!(!ticket_is_fresh(&ticket, 999), "from the future");
        let secret = crate::crypto::random_secret();
        for bad in [
            secret.clone(),
            format!("{secret}."),
            format!("{secret}.-5"),
            format!("{secret}.+5"),
            format!("{secret}.99999999999999999999999"),
            "short.1000".to_owned(),
            String::new(),
        ] {
            assert!(!ticket_is_fresh(&bad, 1_000), "{bad:?}");
        }
    }
}
