#![doc = include_str!("../README.md")]

mod cache;
pub mod jwt;
mod manager;
mod memory;
mod policy;
mod record;
mod store;
mod token;

pub use manager::{DeviceSession, Expiry, Session, SessionError, SessionManager};
pub use memory::MemorySessionStore;
pub use policy::{OnSessionLimit, PolicyError, SessionPolicy};
pub use record::{AuthLevel, Factor, SessionRecord};
pub use store::SessionStore;
pub use token::{SessionToken, TOKEN_LEN, TOKEN_PREFIX, TokenDigest, TokenError};
