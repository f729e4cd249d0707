//! The session store conformance suite on SQLite.

mod common;

use common::SqlBackend;

soc2_testkit::session_store_conformance!(SqlBackend::sqlite().await);
