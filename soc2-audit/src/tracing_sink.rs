//! A sink that emits each event as a `tracing` event, for hosts that ship logs to a SIEM.

use async_trait::async_trait;
use soc2_core::StoreError;

use crate::{AuditSink, Outcome, PreparedEvent};

/// Emits every audit event as a `tracing` event with target `soc2::audit`: `INFO` for
/// successes, `WARN` for failures and denials, `ERROR` for errors. The full event is in the
/// `audit` field as JSON; `action`, `outcome` and `event_id` are separate fields for filtering.
///
/// The `tracing` pipeline cannot report delivery, so this sink never fails; pair it with a
/// chained store when the log is the evidence.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

macro_rules! emit {
    ($level:expr, $event:expr) => {
        tracing::event!(
            target: "soc2::audit",
            $level,
            event_id = %$event.index.event_id,
            action = %$event.index.action,
            outcome = %$event.index.outcome,
            audit = %$event.body,
            "audit event"
        )
    };
}

#[async_trait]
impl AuditSink for TracingSink {
    async fn append(&self, batch: &[PreparedEvent]) -> Result<(), StoreError> {
        for event in batch {
            let outcome = event.index.outcome.as_str();
            if outcome == Outcome::Success.name() {
                emit!(tracing::Level::INFO, event);
            } else if outcome == Outcome::Failure.name() || outcome == Outcome::Denied.name() {
                emit!(tracing::Level::WARN, event);
            } else {
                emit!(tracing::Level::ERROR, event);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use time::macros::datetime;

    use super::*;
    use crate::{Actor, AuditEvent, SdkAction};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn events_become_tracing_events_with_level_by_outcome() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        let at = datetime!(2026-11-23 12:00 UTC);
        let events = [
            AuditEvent::new(
                SdkAction::SessionCreated,
                Outcome::Success,
                Actor::System,
                at,
            ),
            AuditEvent::new(
                SdkAction::AuthorizationDenied,
                Outcome::Denied,
                Actor::System,
                at,
            ),
        ];
        tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime
                .block_on(TracingSink.append_events(&events))
                .unwrap();
        });
        let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = output
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["target"], "soc2::audit");
        assert_eq!(lines[0]["fields"]["action"], "session.created");
        assert_eq!(lines[1]["level"], "WARN");
        assert_eq!(lines[1]["fields"]["outcome"], "denied");
        let audit: serde_json::Value =
            serde_json::from_str(lines[1]["fields"]["audit"].as_str().unwrap()).unwrap();
        assert_eq!(audit["id"], events[1].id().to_string());
    }
}
