//! A sink that emits each event as a `tracing` event, for hosts that ship logs to a SIEM.

use async_trait::async_trait;
use soc2_core::StoreError;

use crate::{AuditEvent, AuditSink, Outcome};

/// Emits every audit event as a `tracing` event with target `soc2::audit`: `INFO` for
/// successes, `WARN` for failures and denials, `ERROR` for errors. The full event is in the
/// `audit` field as JSON; `action`, `outcome` and `event_id` are separate fields for filtering.
///
/// The `tracing` pipeline cannot report delivery, so this sink never fails; pair it with a
/// chained store when the log is the evidence.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

macro_rules! emit {
    ($level:expr, $event:expr, $json:expr) => {
        tracing::event!(
            target: "soc2::audit",
            $level,
            event_id = %$event.id(),
            action = $event.action().name(),
            outcome = $event.outcome().name(),
            audit = %$json,
            "audit event"
        )
    };
}

#[async_trait]
impl AuditSink for TracingSink {
    async fn append(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        for event in events {
            let json = serde_json::to_string(event).unwrap_or_default();
            match event.outcome() {
                Outcome::Success => emit!(tracing::Level::INFO, event, json),
                Outcome::Failure | Outcome::Denied => emit!(tracing::Level::WARN, event, json),
                _ => emit!(tracing::Level::ERROR, event, json),
            }
        }
        Ok(())
    }
}
