//! The session store conformance suite on SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::SqlBackend;

soc2_testkit::session_store_conformance!(SqlBackend::sqlite().await);
