//! A private Redis key prefix per test.
//!
//! Tests read `SOC2_TEST_REDIS_URL`. Without it they print a notice and skip, unless
//! `SOC2_TEST_REDIS_REQUIRED=1` (CI), where a missing server fails the test (as does an
//! unreachable one whenever the URL is set). Every test that got a prefix appends its name to
//! the file named by `SOC2_TEST_REDIS_LOG`, so CI can check that Redis tests really ran.

use std::io::Write;

/// The variable holding the server URL.
pub const URL_VAR: &str = "SOC2_TEST_REDIS_URL";
/// Set to `1` to fail instead of skipping when no server is configured.
pub const REQUIRED_VAR: &str = "SOC2_TEST_REDIS_REQUIRED";
/// A file that collects the names of Redis tests that ran.
pub const LOG_VAR: &str = "SOC2_TEST_REDIS_LOG";

/// A key prefix of its own on the test server: stores opened under it see only its keys.
/// The backend deletes the keys under it after a passing test.
#[derive(Debug, Clone)]
pub struct TestPrefix {
    url: String,
    prefix: String,
}

impl TestPrefix {
    /// A fresh random prefix for `test`, or `None` (after a notice) when no server is
    /// configured and none is required.
    ///
    /// # Panics
    /// When the server is required but not configured.
    #[allow(clippy::panic)]
    #[must_use]
    pub fn create(test: &str) -> Option<Self> {
        let Ok(url) = std::env::var(URL_VAR) else {
            if std::env::var(REQUIRED_VAR).is_ok_and(|v| v == "1") {
                panic!("{REQUIRED_VAR}=1 but {URL_VAR} is not set");
            }
            eprintln!("note: skipping Redis test `{test}`: set {URL_VAR} to run it");
            return None;
        };
        record_run(test);
        Some(Self {
            url,
            prefix: format!("soc2t:{}:", uuid::Uuid::new_v4().simple()),
        })
    }

    /// The server URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The key prefix (ends with `:`).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

fn record_run(test: &str) {
    let Ok(path) = std::env::var(LOG_VAR) else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{test}");
    }
}
