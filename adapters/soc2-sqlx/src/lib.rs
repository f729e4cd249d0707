#![doc = include_str!("../README.md")]

/// Defines a store type that holds only a pool, with its `new` (declared before the modules
/// so the store macros expanded in `sqlite` and `postgres` see it).
macro_rules! pool_store {
    ($(#[$doc:meta])* $store:ident, $pool:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $store {
            pool: $pool,
        }

        impl $store {
            /// A store on `pool` (migrated with `migrate`).
            #[must_use]
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }
        }
    };
}

mod audit;
mod changes;
mod credential;
mod credential_rows;
mod error;
mod lockout;
mod lockout_rows;
mod mfa;
mod mfa_rows;
mod migrate;
mod passkey;
mod passkey_rows;
mod review;
mod review_rows;
mod role;
mod role_rows;
mod rows;
mod session;
mod session_rows;

pub use soc2_core::ChangeFollower;

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

/// The largest number of events inserted by one statement (bind-parameter limits).
const INSERT_CHUNK: usize = 1000;
