#![doc = include_str!("../README.md")]

mod audit;
mod credential;
mod credential_rows;
mod error;
mod lockout;
mod lockout_rows;
mod mfa;
mod mfa_rows;
mod migrate;
mod rows;
mod session;
mod session_rows;

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

/// The largest number of events inserted by one statement (bind-parameter limits).
const INSERT_CHUNK: usize = 1000;
