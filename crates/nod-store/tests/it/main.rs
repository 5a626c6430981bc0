//! The store contract: what every method of [`nod_store::Store`] promises, concurrency
//! included, stated as tests written against `Arc<dyn Store>` only and run against every
//! backend (see [`support::backends`]). One test binary, a module per aggregate.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness: a step that fails is a failed test"
)]

mod consents;
mod devices;
mod grants;
mod keys;
mod login_requests;
mod outbox;
mod partners;
mod sales_units;
mod support;
mod users;
mod webhooks;
