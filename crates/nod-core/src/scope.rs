//! Scopes: parsing the space-separated `scope` parameter into a set, and naming scopes
//! in words for the consent page and the app.

use crate::OAuthError;

/// One scope Nod knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    OpenId,
    Name,
    Email,
    Address,
    PhoneNumber,
    BirthDate,
    Nin,
    DelegatedConsents,
    /// Accepted and ignored (older clients send it).
    ApiVersion2,
}

impl Scope {
    pub const ALL: [Scope; 9] = [
        Scope::OpenId,
        Scope::Name,
        Scope::Email,
        Scope::Address,
        Scope::PhoneNumber,
        Scope::BirthDate,
        Scope::Nin,
        Scope::DelegatedConsents,
        Scope::ApiVersion2,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::Name => "name",
            Scope::Email => "email",
            Scope::Address => "address",
            Scope::PhoneNumber => "phoneNumber",
            Scope::BirthDate => "birthDate",
            Scope::Nin => "nin",
            Scope::DelegatedConsents => "delegatedConsents",
            Scope::ApiVersion2 => "api_version_2",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }

    /// Whether the user is asked to consent to sharing this scope's data.
    pub fn needs_consent(self) -> bool {
        !matches!(self, Scope::OpenId | Scope::ApiVersion2)
    }

    /// The data this scope shares, in words for the person.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::OpenId => "Your user id at this service",
            Scope::Name => "Name",
            Scope::Email => "Email address",
            Scope::Address => "Addresses",
            Scope::PhoneNumber => "Phone number",
            Scope::BirthDate => "Date of birth",
            Scope::Nin => "National identity number",
            Scope::DelegatedConsents => "Your answers to the merchant's consent questions",
            Scope::ApiVersion2 => "",
        }
    }
}

/// Scopes the Vipps documentation lists that Nod does not serve: accepted and dropped
/// from the granted scope, as the Vipps Login API does today, so a login that asks for
/// them still succeeds.
pub const DROPPED: [&str; 5] = [
    "gender",
    "offline",
    "customFlow",
    "paymentSourceReferences",
    "nnin",
];

/// A set of scopes, kept as bits: cheap to copy, compare and store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ScopeSet(u16);

impl ScopeSet {
    pub const EMPTY: ScopeSet = ScopeSet(0);

    /// Parses a space-separated `scope` parameter. The [`DROPPED`] scopes are left out;
    /// unknown scopes are `invalid_scope`.
    pub fn parse(s: &str) -> Result<ScopeSet, OAuthError> {
        let mut set = ScopeSet::EMPTY;
        for word in s.split(' ').filter(|w| !w.is_empty()) {
            match Scope::parse(word) {
                Some(scope) => set.insert(scope),
                None if DROPPED.contains(&word) => {}
                None => {
                    return Err(OAuthError::invalid_scope(format!(
                        "unknown scope '{}'",
                        truncate(word, 40)
                    )));
                }
            }
        }
        Ok(set)
    }

    pub fn from_bits(bits: i64) -> ScopeSet {
        ScopeSet((bits & 0xffff) as u16)
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= scope.bit();
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_subset_of(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn union(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }

    pub fn difference(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Only the scopes that need the person's consent.
    pub fn consentable(self) -> ScopeSet {
        let mut set = ScopeSet::EMPTY;
        for scope in self.iter().filter(|s| s.needs_consent()) {
            set.insert(scope);
        }
        set
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::EMPTY;
        for scope in iter {
            set.insert(scope);
        }
        set
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for scope in self.iter() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
            first = false;
        }
        Ok(())
    }
}

/// Cuts a string for an error description, on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_scopes() {
        let set = ScopeSet::parse("openid  name email nin").unwrap();
        assert!(set.contains(Scope::Nin));
        assert!(!set.contains(Scope::Address));
        assert_eq!(set.to_string(), "openid name email nin");
        assert_eq!(ScopeSet::from_bits(set.bits()), set);
        assert_eq!(set.consentable().to_string(), "name email nin");
    }

    #[test]
    fn documented_scopes_nod_does_not_serve_are_dropped() {
        let set = ScopeSet::parse("openid gender name offline customFlow paymentSourceReferences")
            .unwrap();
        assert_eq!(set.to_string(), "openid name");
        assert!(ScopeSet::parse("openid Gender").is_err(), "names are exact");
    }

    #[test]
    fn rejects_unknown_scopes() {
        let err = ScopeSet::parse("openid profile").unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidScope);
        assert!(err.description.contains("profile"));
    }

    #[test]
    fn subset_and_difference() {
        let a = ScopeSet::parse("openid name").unwrap();
        let b = ScopeSet::parse("openid name email").unwrap();
        assert!(a.is_subset_of(b));
        assert!(!b.is_subset_of(a));
        assert_eq!(b.difference(a).to_string(), "email");
    }
}
