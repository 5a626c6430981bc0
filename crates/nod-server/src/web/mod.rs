//! Shared leaves of the web layer: errors and how they render, page rendering, the
//! authorization response, cookies and extractors. They import nothing above them.

pub(crate) mod cookies;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod redirect;
pub(crate) mod render;
