#![doc = include_str!("../README.md")]

mod action;
mod chain;
mod event;
mod export;
mod file;
mod log;
mod memory;
mod retention;
mod sink;
mod tracing_sink;
mod verify;
mod writer;

pub use action::{Action, HostAction, InvalidAction, RESERVED_NAMESPACES, SdkAction};
pub use chain::{
    ChainCursor, ChainError, ChainHash, Chainer, Checkpoint, CheckpointKind, GENESIS_HASH,
    HASH_LEN, IndexColumns, PreparedEvent, StoredEvent, hash_from_slice,
};
pub use event::{
    Actor, AuditEvent, Criterion, MAX_METADATA_BYTES, MAX_NAME_BYTES, MAX_REASON_BYTES, Outcome,
    SessionRef, Target,
};
pub use export::{CSV_HEADER, ExportError, ExportFormat, ExportPages, export, neutralize_formula};
pub use file::{FsyncPolicy, JsonlFileSink};
pub use log::{AuditError, AuditLog, AuditLogConfig, AuditLogStats, AuditPermit, ConfigError};
pub use memory::MemoryAuditStore;
pub use retention::{PurgeReport, purge_before};
pub use sink::{AuditSink, AuditStore, TimeRange};
pub use tracing_sink::TracingSink;
pub use verify::{Verified, VerifyError, VerifyRequest, Violation, ViolationKind, verify};
