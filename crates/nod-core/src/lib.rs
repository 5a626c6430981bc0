//! nod-core
