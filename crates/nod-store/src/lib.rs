//! nod-store
