//! Webhooks as the Vipps MobilePay Webhooks API has them: registrations of a sales unit
//! (a URL, the events it wants and the secret its notifications are signed with), the
//! rules a registration must follow, and the pure parts of sending one: the signature
//! of the Webhooks API's request authentication, and the unsigned JWT of the Login
//! API's `CONSENT_REVOKED` webhook. No I/O and no clock: times come in as arguments.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Timestamp;
use crate::stored::stored_enum;

/// Most registrations one sales unit may have for one event (the Webhooks API's
/// "at most 25 webhooks can currently be registered per event").
pub const MAX_PER_EVENT: i64 = 25;

/// Longest URL a registration may have.
pub const MAX_URL_LEN: usize = 2048;

/// The events Nod sends through the Webhooks API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// A merchant-initiated login was answered in the app (Login API webhooks:
    /// "Merchant-initiated login events"); the payload is `{"auth_req_id": …}`.
    MerchantInitiatedPing,
}

impl WebhookEvent {
    /// The event type on the wire (and in the database).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MerchantInitiatedPing => "login.merchant-initiated.ping.v1",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        <Self as crate::StoredEnum>::from_stored(s)
    }
}

stored_enum!(WebhookEvent => [MerchantInitiatedPing]);

impl Serialize for WebhookEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A webhook registration of a sales unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: Uuid,
    pub client_id: String,
    /// Where the events are POSTed: an absolute `http` or `https` URL.
    pub url: String,
    /// The events it receives; never empty, no duplicates.
    pub events: Vec<WebhookEvent>,
    /// The key the notifications are signed with (HMAC-SHA256). It is a signing key,
    /// not a password: Nod needs it as it is to sign every notification, so it is
    /// stored as it is, not hashed, and shown to the merchant once, at registration.
    pub secret: String,
    pub created_at: Timestamp,
}

/// What is wrong with a registration: the field and why, as the Webhooks API's
/// `extraDetails` say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub name: &'static str,
    pub reason: String,
}

/// Checks a registration's URL and events. Every problem is reported, not only the
/// first.
pub fn validate_registration(
    url: &str,
    events: &[String],
) -> Result<Vec<WebhookEvent>, Vec<Invalid>> {
    let mut problems = Vec::new();
    if let Err(reason) = check_url(url) {
        problems.push(Invalid {
            name: "url",
            reason,
        });
    }
    let mut parsed = Vec::with_capacity(events.len());
    if events.is_empty() {
        problems.push(Invalid {
            name: "events",
            reason: "at least one event is required".into(),
        });
    }
    for event in events {
        match WebhookEvent::parse(event) {
            Some(e) if !parsed.contains(&e) => parsed.push(e),
            Some(_) => problems.push(Invalid {
                name: "events",
                reason: format!("'{event}' is listed twice"),
            }),
            None => problems.push(Invalid {
                name: "events",
                reason: format!(
                    "unknown event '{}'; Nod sends: {}",
                    event.chars().take(100).collect::<String>(),
                    supported_events()
                ),
            }),
        }
    }
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}

fn supported_events() -> String {
    <WebhookEvent as crate::StoredEnum>::ALL
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// An absolute `http` or `https` URL with a host and no fragment.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("the URL is required".into());
    }
    if url.len() > MAX_URL_LEN {
        return Err(format!("the URL is longer than {MAX_URL_LEN} characters"));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the URL must use http or https".into());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("the URL must name a host".into());
    }
    if parsed.fragment().is_some() {
        return Err("the URL must not have a fragment".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL must not carry credentials".into());
    }
    Ok(())
}

/// A new registration secret: 64 random bytes, base64 (88 characters), the shape of the
/// secret in the Webhooks API's request-authentication sample.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    STANDARD.encode(bytes)
}

/// `x-ms-content-sha256`: the base64 SHA-256 of the body.
pub fn content_hash(body: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(body))
}

/// `x-ms-date`: an RFC 1123 date in GMT (`Thu, 30 Mar 2023 08:38:32 GMT`).
pub fn http_date(at: Timestamp) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(at.max(0).unsigned_abs());
    httpdate::fmt_http_date(at)
}

/// The parts of a URL the signature covers, as the Webhooks API's sample takes them
/// from a JavaScript `URL`: the path and query (`pathname + search`, so an empty query
/// adds nothing) and the host (`host`: with the port unless it is the scheme's
/// default, as the `Host` header carries it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTarget {
    pub path_and_query: String,
    pub host: String,
}

impl SignedTarget {
    pub fn of(url: &url::Url) -> Option<Self> {
        let host = url.host_str()?;
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let mut path_and_query = url.path().to_owned();
        if let Some(query) = url.query().filter(|q| !q.is_empty()) {
            path_and_query.push('?');
            path_and_query.push_str(query);
        }
        Some(Self {
            path_and_query,
            host,
        })
    }
}

/// The `Authorization` header of a notification (Webhooks API, request authentication):
/// `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}`,
/// the signature being the base64 HMAC-SHA256, keyed with the UTF-8 bytes of the secret,
/// of `POST\n{path and query}\n{date};{host};{content hash}`.
pub fn authorization(
    secret: &str,
    target: &SignedTarget,
    date: &str,
    content_hash: &str,
) -> String {
    let signed = format!(
        "POST\n{}\n{date};{};{content_hash}",
        target.path_and_query, target.host
    );
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC accepts keys of any length, so this cannot happen.
        return String::new();
    };
    mac.update(signed.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    format!("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}")
}

/// How long a `CONSENT_REVOKED` token is valid: five minutes, as in the Login API's
/// example (`exp` − `iat` = 300).
pub const CONSENT_REVOKED_LIFETIME: i64 = 300;

/// The claims of the Login API's `CONSENT_REVOKED` webhook, in the documented order.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentRevoked {
    pub exp: Timestamp,
    pub iat: Timestamp,
    pub nbf: Timestamp,
    /// The person's pairwise subject for the sales unit.
    pub sub: String,
    pub event: &'static str,
}

impl ConsentRevoked {
    pub fn new(sub: String, now: Timestamp) -> Self {
        Self {
            exp: now + CONSENT_REVOKED_LIFETIME,
            iat: now,
            nbf: now,
            sub,
            event: "CONSENT_REVOKED",
        }
    }
}

/// An unsecured JWT (RFC 7519 §6): `base64url(header).base64url(claims).` with the
/// header `{"alg":"none","typ":"JWT"}` and an empty signature.
pub fn unsecured_jwt<T: Serialize>(claims: &T) -> Result<String, serde_json::Error> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
    Ok(format!("{header}.{claims}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample of the Webhooks API's "Request authentication" page, byte for byte.
    #[test]
    fn signs_the_documented_sample() {
        let secret = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==";
        let url =
            url::Url::parse("https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63").unwrap();
        let body = br#"{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}"#;
        let hash = content_hash(body);
        assert_eq!(hash, "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=");
        let target = SignedTarget::of(&url).unwrap();
        assert_eq!(target.host, "webhook.site");
        assert_eq!(
            target.path_and_query,
            "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"
        );
        assert_eq!(
            authorization(secret, &target, "Thu, 30 Mar 2023 08:38:32 GMT", &hash),
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="
        );
    }

    #[test]
    fn the_date_is_rfc_1123_in_gmt() {
        // 2023-03-30T08:38:32Z, the sample's date.
        assert_eq!(http_date(1_680_165_512), "Thu, 30 Mar 2023 08:38:32 GMT");
    }

    #[test]
    fn host_keeps_a_non_default_port_and_query_is_signed() {
        let url = url::Url::parse("http://127.0.0.1:8123/hook?a=1&b=2").unwrap();
        let target = SignedTarget::of(&url).unwrap();
        assert_eq!(target.host, "127.0.0.1:8123");
        assert_eq!(target.path_and_query, "/hook?a=1&b=2");
        let url = url::Url::parse("https://shop.example:443/?").unwrap();
        let target = SignedTarget::of(&url).unwrap();
        assert_eq!(target.host, "shop.example");
        assert_eq!(target.path_and_query, "/");
    }

    #[test]
    fn registrations_are_validated() {
        let ping = vec!["login.merchant-initiated.ping.v1".to_owned()];
        assert_eq!(
            validate_registration("https://shop.example/hook", &ping),
            Ok(vec![WebhookEvent::MerchantInitiatedPing])
        );
        assert!(validate_registration("http://127.0.0.1:9/x", &ping).is_ok());
        for bad in [
            "",
            "/relative",
            "ftp://shop.example/x",
            "https://shop.example/#f",
            "https://u:p@shop.example/",
        ] {
            let problems = validate_registration(bad, &ping).unwrap_err();
            assert_eq!(problems[0].name, "url", "{bad}");
        }
        let problems = validate_registration(
            "https://shop.example/",
            &["epayments.payment.created.v1".into()],
        )
        .unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].name, "events");
        assert!(
            problems[0]
                .reason
                .contains("login.merchant-initiated.ping.v1")
        );
        assert!(validate_registration("https://shop.example/", &[]).is_err());
        let twice = vec![ping[0].clone(), ping[0].clone()];
        assert!(validate_registration("https://shop.example/", &twice).is_err());
        let both = validate_registration("nope", &[]).unwrap_err();
        assert_eq!(both.len(), 2);
    }

    #[test]
    fn consent_revoked_is_an_unsecured_jwt_with_the_documented_claims() {
        let jwt = unsecured_jwt(&ConsentRevoked::new("c9d10444".into(), 1_592_571_488)).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], "");
        let header = URL_SAFE_NO_PAD.decode(parts[0]).unwrap();
        assert_eq!(header, br#"{"alg":"none","typ":"JWT"}"#);
        let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            r#"{"exp":1592571788,"iat":1592571488,"nbf":1592571488,"sub":"c9d10444","event":"CONSENT_REVOKED"}"#
        );
    }

    #[test]
    fn secrets_are_88_base64_characters() {
        let secret = new_secret();
        assert_eq!(secret.len(), 88);
        assert_eq!(STANDARD.decode(&secret).unwrap().len(), 64);
        assert_ne!(secret, new_secret());
    }
}
