//! The lockout store conformance suite on Redis (`SOC2_TEST_REDIS_URL`), and malformed data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::RedisBackend;

soc2_testkit::lockout_store_conformance!(RedisBackend::new(module_path!()));
