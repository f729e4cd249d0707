//! Maps sqlx errors onto the shared `StoreError` kinds.

use soc2_core::StoreError;

/// PostgreSQL SQLSTATE classes and SQLite result codes that mean "not reachable right now".
const TRANSIENT_CODES: &[&str] = &[
    "57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
    "53300", // too many connections
    "5",     // SQLITE_BUSY
    "6",     // SQLITE_LOCKED
    "8",     // SQLITE_READONLY
    "10",    // SQLITE_IOERR
    "13",    // SQLITE_FULL
    "14",    // SQLITE_CANTOPEN
    "517",   // SQLITE_BUSY_SNAPSHOT
];

/// Converts a driver error into the store error a caller can act on.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.into()),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.is_unique_violation() {
                StoreError::Conflict(db.message().to_owned())
            } else if code.starts_with("08") || TRANSIENT_CODES.contains(&code.as_ref()) {
                StoreError::Unavailable(error.into())
            } else if code == "42P01" || db.message().contains("no such table") {
                StoreError::Schema(format!("{}; run the soc2-sqlx migrations", db.message()))
            } else {
                StoreError::Backend(error.into())
            }
        }
        _ => StoreError::Backend(error.into()),
    }
}
