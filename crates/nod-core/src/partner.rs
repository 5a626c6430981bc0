//! Partners (the Vipps "partner keys"): an integrator with credentials of its own that
//! acts for the sales units whose merchant serial numbers (MSNs) it was given. A partner
//! gets an access token from `POST /accesstoken/get` and sends it as `Authorization:
//! Bearer` with `Merchant-Serial-Number` at the token, revocation and CIBA endpoints; in
//! the browser it sends `msn` instead of `client_id` to authorize, and Nod redirects to
//! the same URL with the merchant's `client_id`.

use crate::Timestamp;

/// Most MSNs one partner may act for.
pub const MAX_MSNS: usize = 1000;

/// A stored partner. The secret is kept only as its SHA-256 hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// The partner's client id (the `client_id` header of `POST /accesstoken/get`).
    pub id: String,
    pub secret_hash: Vec<u8>,
    pub name: String,
    /// The MSNs of the sales units it may act for: sorted, no duplicates.
    pub msns: Vec<String>,
    pub created_at: Timestamp,
}

/// A partner's access token from `POST /accesstoken/get`, as stored (the token itself is
/// known only to the partner). It names the partner; each call names the sales unit with
/// `Merchant-Serial-Number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerToken {
    pub token_hash: Vec<u8>,
    pub partner_id: String,
    pub expires_at: Timestamp,
}

/// Why a partner cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartnerError {
    #[error("a partner id has 1 to 100 characters: letters, digits, '-', '_' and '.'")]
    Id,
    #[error("a partner name has 1 to 100 characters")]
    Name,
    #[error("a partner acts for 1 to {MAX_MSNS} merchant serial numbers")]
    MsnCount,
    #[error("merchant serial number '{0}' is not 1 to 20 digits")]
    Msn(String),
}

/// Whether a string is a merchant serial number: 1 to 20 digits.
pub fn is_msn(msn: &str) -> bool {
    (1..=20).contains(&msn.len()) && msn.bytes().all(|b| b.is_ascii_digit())
}

impl Partner {
    /// Sorts and deduplicates the MSNs, then checks every rule; the first broken rule is
    /// the error.
    pub fn normalize(mut self) -> Result<Self, PartnerError> {
        let id_ok = (1..=100).contains(&self.id.len())
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !id_ok {
            return Err(PartnerError::Id);
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(PartnerError::Name);
        }
        if let Some(bad) = self.msns.iter().find(|m| !is_msn(m)) {
            return Err(PartnerError::Msn(bad.clone()));
        }
        self.msns.sort_unstable();
        self.msns.dedup();
        if self.msns.is_empty() || self.msns.len() > MAX_MSNS {
            return Err(PartnerError::MsnCount);
        }
        Ok(self)
    }

    /// Whether the partner may act for the sales unit with this MSN.
    pub fn may_act_for(&self, msn: &str) -> bool {
        self.msns.binary_search_by(|m| m.as_str().cmp(msn)).is_ok()
    }
}

/// The query of an authorization request that named a merchant by `msn`, with that
/// parameter replaced by `client_id={client_id}`: every other parameter kept as sent, in
/// its place. The query must have exactly one `msn` and no `client_id` but empty ones
/// (callers read both with `Params` first, where an empty value is an absent one); the
/// empty `client_id`s are dropped, so the new one is the only one.
pub fn replace_msn(query: &str, client_id: &str) -> String {
    let client_id: String = form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    query
        .split('&')
        .filter_map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            let name = format!("{name}=");
            let name = form_urlencoded::parse(name.as_bytes()).next();
            match name.as_ref().map(|(n, _)| n.as_ref()) {
                Some("msn") => Some(format!("client_id={client_id}")),
                Some("client_id") => None,
                _ => Some(pair.to_owned()),
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partner(msns: &[&str]) -> Partner {
        Partner {
            id: "acme-partner".into(),
            secret_hash: vec![0; 32],
            name: "Acme Integrations".into(),
            msns: msns.iter().map(|m| (*m).to_owned()).collect(),
            created_at: 0,
        }
    }

    #[test]
    fn msns_are_sorted_and_deduplicated() {
        let p = partner(&["654321", "123456", "654321"])
            .normalize()
            .unwrap();
        assert_eq!(p.msns, ["123456", "654321"]);
        assert!(p.may_act_for("123456"));
        assert!(p.may_act_for("654321"));
        assert!(!p.may_act_for("12345"));
        assert!(!p.may_act_for(""));
    }

    #[test]
    fn every_rule_is_checked() {
        assert_eq!(partner(&[]).normalize(), Err(PartnerError::MsnCount));
        assert_eq!(
            partner(&["12a"]).normalize(),
            Err(PartnerError::Msn("12a".into()))
        );
        assert_eq!(
            partner(&["123456789012345678901"]).normalize(),
            Err(PartnerError::Msn("123456789012345678901".into()))
        );
        let mut p = partner(&["1"]);
        p.id = "a b".into();
        assert_eq!(p.normalize(), Err(PartnerError::Id));
        let mut p = partner(&["1"]);
        p.name = " ".into();
        assert_eq!(p.normalize(), Err(PartnerError::Name));
        let many: Vec<String> = (0..=MAX_MSNS).map(|n| n.to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(partner(&many).normalize(), Err(PartnerError::MsnCount));
    }

    #[test]
    fn msn_is_replaced_in_place() {
        assert_eq!(
            replace_msn(
                "msn=123456&response_type=code&scope=openid%20name&state=s%2B1",
                "shop"
            ),
            "client_id=shop&response_type=code&scope=openid%20name&state=s%2B1"
        );
        assert_eq!(
            replace_msn("response_type=code&%6Dsn=1&state=x", "a b&c"),
            "response_type=code&client_id=a+b%26c&state=x"
        );
        assert_eq!(replace_msn("msnx=1&msn=2", "shop"), "msnx=1&client_id=shop");
    }

    /// Found by fuzzing (fuzz target `authorize`): an empty `client_id` counts as absent,
    /// so the query was rewritten, and kept it beside the new one: sent twice.
    #[test]
    fn an_empty_client_id_is_dropped_in_the_rewrite() {
        let query = "msn=123456&client_id&state=12345678&client_id=";
        let rewritten = replace_msn(query, "shop");
        assert_eq!(rewritten, "client_id=shop&state=12345678");
        let params = crate::params::Params::parse(rewritten.as_bytes()).unwrap();
        assert_eq!(params.get("client_id").unwrap(), Some("shop"));
    }
}
