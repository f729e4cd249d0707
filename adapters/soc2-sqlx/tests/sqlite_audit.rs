//! The audit conformance and tamper suites on SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::SqlBackend;

soc2_testkit::audit_store_conformance!(SqlBackend::sqlite().await);
soc2_testkit::audit_tamper_conformance!(SqlBackend::sqlite().await);
