//! The review store conformance suite on PostgreSQL (`SOC2_TEST_POSTGRES_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::SqlBackend;

soc2_testkit::review_store_conformance!(SqlBackend::postgres(module_path!()).await);
