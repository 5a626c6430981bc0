//! Shared leaves of the web layer: errors and how they render, page rendering, the
//! authorization response, cookies and extractors. They import nothing above them.

pub mod cookies;
pub mod error;
pub mod extract;
pub mod redirect;
pub mod render;
