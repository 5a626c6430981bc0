//! Nod's server tests: the real router on 127.0.0.1 over a fresh SQLite database, driven
//! over HTTP like a browser, an app and a merchant would.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness: a step that fails is a failed test"
)]

mod support;

mod app_api;
mod audit;
mod bad_input;
mod ciba;
mod compat;
mod cookies;
mod devices;
mod discovery;
mod faults;
mod flows;
mod instances;
mod interop;
mod journey;
mod keys;
mod metrics;
mod openapi;
mod partners;
mod races;
mod scenarios;
mod webhooks;
