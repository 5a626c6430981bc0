//! Request parameters of the protocol endpoints (query string or form body), with the
//! rules RFC 6749 §3.1 sets for all of them: each at most once, and bounded in size.

use std::borrow::Cow;

use crate::OAuthError;

/// Most parameters a request may carry; more is a malformed request.
const MAX_PARAMS: usize = 64;
/// Longest single value accepted before any endpoint-specific check.
const MAX_VALUE: usize = 4096;

/// Decoded `application/x-www-form-urlencoded` parameters.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// Parameters whose value was too long to keep: reading one is `invalid_request`,
    /// so the endpoint still learns which client sent the request and where its
    /// errors go (authorize redirects a `state` of 5,000 characters back as an error).
    too_long: Vec<String>,
}

impl Params {
    /// Parses a query string or form body. Too many parameters, or a name that is too
    /// long, is `invalid_request`; a value that is too long is kept as such, and reading
    /// it is `invalid_request`.
    pub fn parse(input: &[u8]) -> Result<Params, OAuthError> {
        let mut params = Params::default();
        for (name, value) in form_urlencoded::parse(input) {
            if params.pairs.len() + params.too_long.len() == MAX_PARAMS {
                return Err(OAuthError::invalid_request("too many parameters"));
            }
            if name.len() > 100 {
                return Err(OAuthError::invalid_request(format!(
                    "parameter '{}' is too long",
                    crate::scope::truncate(&name, 40)
                )));
            }
            if value.len() > MAX_VALUE {
                params.too_long.push(name.into_owned());
            } else {
                params.pairs.push((name.into_owned(), value.into_owned()));
            }
        }
        Ok(params)
    }

    /// The value of a parameter. An empty value counts as absent (RFC 6749 §3.1); a
    /// parameter sent twice is `invalid_request`.
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        if self.too_long.iter().any(|n| n == name) {
            return Err(OAuthError::invalid_request(format!(
                "parameter '{name}' is longer than {MAX_VALUE} bytes"
            )));
        }
        let mut found = None;
        for (n, v) in &self.pairs {
            if n == name {
                if found.is_some() {
                    return Err(OAuthError::invalid_request(format!(
                        "parameter '{name}' was sent more than once"
                    )));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    /// Like [`Params::get`], but absent is `invalid_request`.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("parameter '{name}' is required")))
    }

    /// A parameter with a length limit.
    pub fn get_bounded(&self, name: &str, max: usize) -> Result<Option<&str>, OAuthError> {
        match self.get(name)? {
            Some(v) if v.chars().count() > max => Err(OAuthError::invalid_request(Cow::Owned(
                format!("parameter '{name}' is longer than {max} characters"),
            ))),
            other => Ok(other),
        }
    }
}

/// The client id and secret of HTTP Basic credentials (`client_secret_basic`): the
/// base64 text after `Basic `, which decodes to `id:secret` with both parts form-encoded
/// (RFC 6749 §2.3.1). `None` when it is not base64 of UTF-8 text with a colon.
pub fn basic_credentials(credentials: &str) -> Option<(String, String)> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

/// One form-encoded value, decoded whole: a raw `&` in it is a character of the value,
/// not the start of another parameter.
fn form_decode(s: &str) -> String {
    let value = format!("x={}", s.replace('&', "%26"));
    form_urlencoded::parse(value.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_empty_parameters() {
        let p = Params::parse(b"a=1&b=&a=2&c=x%20y").unwrap();
        assert!(p.get("a").is_err());
        assert_eq!(p.get("b").unwrap(), None);
        assert_eq!(p.get("c").unwrap(), Some("x y"));
        assert!(p.require("d").is_err());
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        use base64::Engine;
        let basic = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            basic_credentials(&basic("my%20client:pa%2Bss+word:x")),
            Some(("my client".into(), "pa+ss word:x".into()))
        );
        assert_eq!(basic_credentials(&basic("no colon")), None);
        assert_eq!(basic_credentials("not base64!"), None);
        assert_eq!(
            basic_credentials(&basic(":")),
            Some((String::new(), String::new()))
        );
    }

    /// Found with the `client_form` fuzz target's property (every character of
    /// credentials with nothing to decode is kept): a raw `&` in a Basic id or secret
    /// ended it there, so a client whose secret holds `&`, sent unencoded as most
    /// libraries send it, was refused (`shop:pa&ss` was read as the secret `pa`).
    #[test]
    fn a_raw_ampersand_in_basic_credentials_is_kept() {
        use base64::Engine;
        let header = base64::engine::general_purpose::STANDARD.encode("sh&op:pa&ss=1");
        assert_eq!(
            basic_credentials(&header),
            Some(("sh&op".into(), "pa&ss=1".into()))
        );
    }

    #[test]
    fn limits() {
        let long = format!("a={}&b=1", "x".repeat(5000));
        let p = Params::parse(long.as_bytes()).unwrap();
        assert!(p.get("a").is_err(), "a value too long to keep");
        assert_eq!(p.get("b").unwrap(), Some("1"), "the others are read");
        let long_name = format!("{}=1", "n".repeat(101));
        assert!(Params::parse(long_name.as_bytes()).is_err());
        let many: Vec<String> = (0..70).map(|i| format!("p{i}=1")).collect();
        assert!(Params::parse(many.join("&").as_bytes()).is_err());
        let p = Params::parse(b"s=abcdef").unwrap();
        assert!(p.get_bounded("s", 5).is_err());
        assert!(p.get_bounded("s", 6).is_ok());
    }
}
