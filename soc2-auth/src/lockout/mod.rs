//! Account lockout and per-IP throttling: policy, pure state machines, and the store trait.

mod key;
mod memory;
mod policy;
mod state;
mod store;

pub use key::LockoutKey;
pub use memory::MemoryLockoutStore;
pub use policy::{LockoutPolicy, LockoutPolicyError, MAX_SUSTAINED_FAILURES_PER_HOUR};
pub use state::{
    ATTEMPT_TIMEOUT, AccountLockState, AccountOp, AccountOutcome, IpOp, IpOutcome, IpWindowState,
    LockStarted,
};
pub use store::LockoutStore;
