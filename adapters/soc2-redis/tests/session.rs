//! The session store conformance suite on Redis (`SOC2_TEST_REDIS_URL`), and what is
//! particular to Redis: key expiry, the key layout, malformed data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::RedisBackend;

soc2_testkit::session_store_conformance!(RedisBackend::new(module_path!()));
