//! A browser's cookie jar, as much of one as a login needs: one host, so the Domain and
//! Path attributes are ignored; `Max-Age` ≤ 0 or an `Expires` in the past deletes.

/// Cookies by name, in the order they were first set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    /// Applies one `Set-Cookie` header value.
    pub(crate) fn set(&mut self, header: &str) {
        let mut parts = header.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            return;
        };
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let value = value.trim().trim_matches('"');
        let deleted = parts.any(|attribute| {
            let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
            let key = key.trim();
            let val = val.trim();
            (key.eq_ignore_ascii_case("max-age") && val.parse::<i64>().is_ok_and(|s| s <= 0))
                || (key.eq_ignore_ascii_case("expires") && expires_in_past(val))
        });
        let existing = self.cookies.iter().position(|(n, _)| n == name);
        match (existing, deleted) {
            (Some(i), true) => {
                self.cookies.remove(i);
            }
            (Some(i), false) => value.clone_into(&mut self.cookies[i].1),
            (None, true) => {}
            (None, false) => self.cookies.push((name.to_owned(), value.to_owned())),
        }
    }

    /// Applies every `Set-Cookie` of a response.
    pub(crate) fn set_all<'a>(&mut self, headers: impl Iterator<Item = &'a str>) {
        for header in headers {
            self.set(header);
        }
    }

    /// The `Cookie` request header (empty when the jar is).
    pub(crate) fn header(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.cookies {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
        out
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.cookies.len()
    }
}

/// Whether an `Expires` date lies before 1971, the way servers write "delete this"
/// (`Thu, 01 Jan 1970 00:00:00 GMT`); a real future date keeps the cookie. A load test
/// never lives long enough for a real expiry to pass.
fn expires_in_past(date: &str) -> bool {
    date.split_whitespace()
        .find_map(|w| w.parse::<u32>().ok().filter(|y| *y > 1000))
        .is_some_and(|year| year <= 1970)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_name_and_value_and_ignores_attributes() {
        let mut jar = Jar::default();
        jar.set("nod_bid=abc123; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000");
        jar.set("nod_remember=r=1; Path=/; HttpOnly");
        assert_eq!(jar.header(), "nod_bid=abc123; nod_remember=r=1");
        assert_eq!(jar.get("nod_remember"), Some("r=1"));
    }

    #[test]
    fn a_second_set_replaces_in_place() {
        let mut jar = Jar::default();
        jar.set("a=1");
        jar.set("b=2");
        jar.set("a=3; Path=/");
        assert_eq!(jar.header(), "a=3; b=2");
        assert_eq!(jar.len(), 2);
    }

    #[test]
    fn max_age_zero_and_past_expires_delete() {
        let mut jar = Jar::default();
        jar.set("_interaction=x; path=/interaction");
        jar.set("_session=y");
        jar.set("_interaction=; path=/interaction; max-age=0");
        assert_eq!(jar.header(), "_session=y");
        jar.set("_session=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/");
        assert_eq!(jar.header(), "");
        jar.set("c=1; expires=Fri, 25 Nov 2044 10:00:00 GMT");
        assert_eq!(jar.get("c"), Some("1"));
    }

    #[test]
    fn ignores_malformed_headers() {
        let mut jar = Jar::default();
        jar.set("no-equals-sign");
        jar.set("=value");
        jar.set("gone=; Max-Age=0");
        assert_eq!(jar.len(), 0);
    }

    #[test]
    fn strips_quotes() {
        let mut jar = Jar::default();
        jar.set("q=\"quoted\"");
        assert_eq!(jar.get("q"), Some("quoted"));
    }
}
