//! A private Redis key prefix per test, and its keys.
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

    /// Every key under the prefix, sorted.
    ///
    /// # Panics
    /// When the server cannot be reached.
    #[allow(clippy::expect_used)]
    pub async fn keys(&self) -> Vec<String> {
        let mut conn = self.connect().await;
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, page): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("SCAN the test prefix");
            keys.extend(page);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys
    }

    /// Deletes every key under the prefix.
    ///
    /// # Panics
    /// When the server cannot be reached.
    #[allow(clippy::expect_used)]
    pub async fn delete_all(&self) {
        let keys = self.keys().await;
        if !keys.is_empty() {
            let mut conn = self.connect().await;
            redis::cmd("DEL")
                .arg(keys)
                .exec_async(&mut conn)
                .await
                .expect("DEL the test prefix's keys");
        }
    }

    #[allow(clippy::expect_used)]
    async fn connect(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("a Redis URL")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the test Redis")
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
