//! Password credentials: the stored hash, its history, timestamps and flags.

mod memory;
mod record;
mod store;

pub use memory::MemoryCredentialStore;
pub use record::{CredentialFlags, CredentialRecord};
pub use store::CredentialStore;
