//! The login engine: every state change of a login request, and everything else that
//! changes what Nod stores, goes through [`Service`]. Each method does the store change
//! (one conditional, atomic store operation), the event, the audit entry and any outgoing
//! notification together, so the three doors into a login — the browser pages, the app
//! API and the merchant's calls — cannot drift apart. No HTTP types live here: handlers
//! extract, call a method, and map its result or its [`ServiceError`].

mod answers;
mod authorize;
mod ciba;
mod consent;
mod devices;
mod engine;
mod login;
mod merchant;
mod partners;
mod sales_units;
mod tokens;
mod unit_cache;

pub(crate) use engine::{AuthScheme, Service, ServiceError, describe};

pub(crate) use answers::{AppNext, Approval, OutcomeAnswer, PendingLogin};
pub(crate) use authorize::Authorized;
pub(crate) use login::{Entry, Finished, PhoneOutcome, Step};
pub(crate) use partners::PartnerCredentials;
pub(crate) use tokens::{ClientCredentials, TokenResponse};
pub(crate) use unit_cache::SalesUnitCache;
