//! Where a redirect goes: still on the server under test, or back to the merchant's
//! redirect URI with a code (or an error).

use url::Url;

/// A `Location` header, seen from the browser.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Hop {
    /// Stays on the server: the path and query to request next.
    Server(String),
    /// Back at the redirect URI with a code.
    Code(String),
    /// Back at the redirect URI with an error (`error`, `error_description`).
    Error(String),
    /// Somewhere else, or a redirect URI with neither code nor error.
    Elsewhere(String),
}

/// Classifies a `Location`: `base` is the server's origin (`http://127.0.0.1:18990`),
/// `redirect_uri` the merchant's registered one.
pub(crate) fn classify(location: &str, base: &Url, redirect_uri: &str) -> Hop {
    let Ok(target) = base.join(location) else {
        return Hop::Elsewhere(location.to_owned());
    };
    if target.as_str().starts_with(redirect_uri) {
        let query = |name: &str| {
            target
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(code) = query("code") {
            return Hop::Code(code);
        }
        if let Some(error) = query("error") {
            let description = query("error_description").unwrap_or_default();
            return Hop::Error(format!("{error}: {description}"));
        }
        return Hop::Elsewhere(target.into());
    }
    if target.origin() == base.origin() {
        let mut path = target.path().to_owned();
        if let Some(q) = target.query() {
            path.push('?');
            path.push_str(q);
        }
        return Hop::Server(path);
    }
    Hop::Elsewhere(target.into())
}

/// The value of a hidden form field (`name="csrf" value="…"`) in a page.
pub(crate) fn form_field<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker)?;
    // The value attribute of the same tag, after or before the name.
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let value = tag.split_once("value=\"")?.1;
    value.split_once('"').map(|(v, _)| v)
}

/// The number the waiting page shows (`<output id="challenge" …>42</output>`).
pub(crate) fn challenge(html: &str) -> Option<u32> {
    let at = html.find("id=\"challenge\"")?;
    let rest = &html[at..];
    let text = &rest[rest.find('>')? + 1..];
    let digits: String = text
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The login request id in a Nod login page path (`/login/{id}` or `/login/{id}/…`).
pub(crate) fn login_id(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/login/")?;
    let id = rest.split(['/', '?']).next()?;
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIRECT: &str = "http://localhost:3000/callback";

    fn base() -> Result<Url, url::ParseError> {
        Url::parse("http://127.0.0.1:18990")
    }

    #[test]
    fn relative_and_absolute_locations_on_the_server() -> Result<(), url::ParseError> {
        let base = base()?;
        assert_eq!(
            classify("/login/abc", &base, REDIRECT),
            Hop::Server("/login/abc".into())
        );
        assert_eq!(
            classify("http://127.0.0.1:18990/auth/x?y=1", &base, REDIRECT),
            Hop::Server("/auth/x?y=1".into())
        );
        Ok(())
    }

    #[test]
    fn code_at_the_redirect_uri_is_decoded() -> Result<(), url::ParseError> {
        let location = "http://localhost:3000/callback?code=a%2Bb&state=bench-state&iss=http%3A%2F%2F127.0.0.1";
        assert_eq!(
            classify(location, &base()?, REDIRECT),
            Hop::Code("a+b".into())
        );
        Ok(())
    }

    #[test]
    fn error_at_the_redirect_uri() -> Result<(), url::ParseError> {
        let location =
            "http://localhost:3000/callback?error=access_denied&error_description=no&state=s";
        assert_eq!(
            classify(location, &base()?, REDIRECT),
            Hop::Error("access_denied: no".into())
        );
        Ok(())
    }

    #[test]
    fn another_origin_is_elsewhere() -> Result<(), url::ParseError> {
        assert_eq!(
            classify("http://127.0.0.1:9999/x", &base()?, REDIRECT),
            Hop::Elsewhere("http://127.0.0.1:9999/x".into())
        );
        Ok(())
    }

    #[test]
    fn finds_form_fields_and_the_challenge() {
        let html = r#"<form method="post" action="/login/i1/phone">
<input type="hidden" name="csrf" value="tok-123">
<input id="phone_number" name="phone_number" type="tel"></form>"#;
        assert_eq!(form_field(html, "csrf"), Some("tok-123"));
        assert_eq!(form_field(html, "missing"), None);
        let wait =
            r#"<p class="challenge"><output id="challenge" aria-label="Number">42</output></p>"#;
        assert_eq!(challenge(wait), Some(42));
        assert_eq!(challenge("<p>nothing</p>"), None);
    }

    #[test]
    fn login_ids_from_paths() {
        assert_eq!(login_id("/login/abc"), Some("abc"));
        assert_eq!(login_id("/login/abc/continue"), Some("abc"));
        assert_eq!(login_id("/auth/abc"), None);
        assert_eq!(login_id("/login/"), None);
    }
}
