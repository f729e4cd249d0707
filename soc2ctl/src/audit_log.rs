//! Running an audited change with its own audit log, flushed before soc2ctl exits.

use std::sync::Arc;

use soc2_audit::{AuditLog, AuditLogConfig, AuditSink, AuditStore};

use crate::Failure;

/// Runs `action` with an audit log appending to `store`, then shuts the log down so that every
/// event it recorded is stored before the process exits. A failure of `action` wins over one
/// of the flush; a flush failure after a successful `action` is reported (exit 2), since the
/// change happened but its evidence is missing.
pub(crate) async fn with_audit_log<T>(
    store: &Arc<dyn AuditStore>,
    action: impl AsyncFnOnce(&AuditLog) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let log = AuditLog::start(
        Arc::clone(store) as Arc<dyn AuditSink>,
        AuditLogConfig::default(),
    );
    let result = action(&log).await;
    let flushed = log.shutdown().await;
    let value = result?;
    flushed.map_err(|error| {
        Failure::config(format!(
            "the change was made but its audit events were not stored: {error}"
        ))
    })?;
    Ok(value)
}
