//! The credential and lockout store conformance suites on PostgreSQL
//! (`SOC2_TEST_POSTGRES_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::SqlBackend;

soc2_testkit::credential_store_conformance!(SqlBackend::postgres(module_path!()).await);
soc2_testkit::lockout_store_conformance!(SqlBackend::postgres(module_path!()).await);
soc2_testkit::password_auth_conformance!(SqlBackend::postgres(module_path!()).await);
soc2_testkit::mfa_store_conformance!(SqlBackend::postgres(module_path!()).await);
soc2_testkit::passkey_store_conformance!(SqlBackend::postgres(module_path!()).await);
