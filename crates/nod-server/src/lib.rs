//! nod-server
