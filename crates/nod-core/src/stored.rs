//! Enums kept in the database by name.

/// An enum stored in the database as one of its names. The names live only in `as_str`;
/// reading an unknown name back gives `None`, never a silent default.
pub trait StoredEnum: Sized + Copy + 'static {
    /// Every value, so a stored name can be looked up.
    const ALL: &'static [Self];

    /// The stored (and, where it has one, the wire) name.
    fn as_str(self) -> &'static str;

    /// The value a stored name stands for.
    fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// Implements [`StoredEnum`] from the type's inherent `as_str`.
macro_rules! stored_enum {
    ($ty:ty => [$($variant:ident),+ $(,)?]) => {
        impl $crate::stored::StoredEnum for $ty {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str {
                <$ty>::as_str(self)
            }
        }
    };
}
pub(crate) use stored_enum;
