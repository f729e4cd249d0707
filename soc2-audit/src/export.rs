//! Export for auditors: a time range as JSON Lines or CSV, streamed page by page.

use std::io::Write;

use soc2_core::StoreError;
use time::format_description::well_known::Rfc3339;

use crate::{Actor, AuditStore, StoredEvent, TimeRange};

const PAGE: u32 = 1000;

/// The export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportFormat {
    /// One JSON object per line: `seq`, `key_id`, `prev_hash`, `hash` and the stored `event`
    /// verbatim, so the sample can be re-verified with the audit key.
    JsonLines,
    /// A flat table for spreadsheets, with a header row. Cells that a spreadsheet would run as
    /// a formula are prefixed with `'` (OWASP CSV injection).
    Csv,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The store could not be read.
    #[error("audit store could not be read")]
    Store(#[from] StoreError),
    /// The output could not be written.
    #[error("export output could not be written")]
    Io(#[from] std::io::Error),
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 19] = [
    "seq",
    "event_id",
    "occurred_at",
    "actor_kind",
    "actor",
    "action",
    "target_kind",
    "target_id",
    "outcome",
    "reason",
    "client_ip",
    "user_agent",
    "request_id",
    "session_ref",
    "criteria",
    "metadata",
    "key_id",
    "prev_hash",
    "hash",
];

/// Writes every event that occurred within `range` to `out`, in chain order, holding one page
/// in memory at a time. Returns the number of events written.
///
/// # Errors
/// [`ExportError`] when reading or writing fails; what was written so far stays written.
pub async fn export(
    store: &dyn AuditStore,
    range: &TimeRange,
    format: ExportFormat,
    out: &mut (dyn Write + Send),
) -> Result<u64, ExportError> {
    let mut pages = ExportPages::new(*range, format);
    while let Some(chunk) = pages.next_chunk(store).await? {
        out.write_all(&chunk)?;
    }
    out.flush()?;
    Ok(pages.written())
}

/// An export read one page (1000 events) at a time, for hosts that stream it (an HTTP
/// response body) instead of writing to an [`std::io::Write`]: memory stays bounded by one
/// page whatever the range holds.
///
/// Each [`ExportPages::next_chunk`] reads the next page from the store it is given and returns
/// its encoded bytes (the CSV header comes with the first chunk); concatenated, the chunks are
/// exactly what [`export`] writes.
#[derive(Debug, Clone)]
pub struct ExportPages {
    range: TimeRange,
    format: ExportFormat,
    after: u64,
    header_pending: bool,
    done: bool,
    written: u64,
}

impl ExportPages {
    /// An export of the events within `range` as `format`, not started yet.
    #[must_use]
    pub fn new(range: TimeRange, format: ExportFormat) -> Self {
        Self {
            range,
            format,
            after: 0,
            header_pending: format == ExportFormat::Csv,
            done: false,
            written: 0,
        }
    }

    /// The next chunk of the export, read from `store`; `None` once every event was returned.
    ///
    /// # Errors
    /// [`ExportError::Store`] when the page cannot be read or decoded.
    pub async fn next_chunk(
        &mut self,
        store: &dyn AuditStore,
    ) -> Result<Option<Vec<u8>>, ExportError> {
        if self.done {
            return Ok(None);
        }
        let page = store.read_range(&self.range, self.after, PAGE).await?;
        let mut chunk = Vec::new();
        if self.header_pending {
            write_csv(&mut chunk, [CSV_HEADER.map(String::from).to_vec()])?;
            self.header_pending = false;
        }
        let Some(last) = page.last() else {
            self.done = true;
            return Ok((!chunk.is_empty()).then_some(chunk));
        };
        match self.format {
            ExportFormat::Csv => {
                let rows = page.iter().map(csv_row).collect::<Result<Vec<_>, _>>()?;
                write_csv(&mut chunk, rows)?;
            }
            ExportFormat::JsonLines => {
                for event in &page {
                    writeln!(chunk, "{}", event.to_json_line()?)?;
                }
            }
        }
        self.after = last.seq;
        self.written += page.len() as u64;
        Ok(Some(chunk))
    }

    /// How many events the chunks returned so far hold.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.written
    }
}

fn write_csv(
    out: &mut Vec<u8>,
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<(), ExportError> {
    let mut writer = csv::Writer::from_writer(out);
    for row in rows {
        writer.write_record(row).map_err(csv_error)?;
    }
    writer.flush()?;
    Ok(())
}

fn csv_row(stored: &StoredEvent) -> Result<Vec<String>, StoreError> {
    let event = stored.event()?;
    let (actor_kind, actor) = match event.actor() {
        Actor::User { id } => ("user", id.to_string()),
        Actor::Service { name } => ("service", name.clone()),
        Actor::Anonymous { attempted_username } => {
            ("anonymous", attempted_username.clone().unwrap_or_default())
        }
        Actor::System => ("system", String::new()),
    };
    let context = event.context();
    let criteria: Vec<_> = event.criteria().iter().map(|c| c.id()).collect();
    let row = vec![
        stored.seq.to_string(),
        event.id().to_string(),
        event.occurred_at().format(&Rfc3339).unwrap_or_default(),
        actor_kind.to_owned(),
        actor,
        event.action().name().to_owned(),
        event
            .target()
            .map(|t| t.kind().to_owned())
            .unwrap_or_default(),
        event
            .target()
            .map(|t| t.id().to_owned())
            .unwrap_or_default(),
        event.outcome().name().to_owned(),
        event.reason().unwrap_or_default().to_owned(),
        context
            .client_ip()
            .map(|ip| ip.to_string())
            .unwrap_or_default(),
        context.user_agent().unwrap_or_default().to_owned(),
        context.request_id().unwrap_or_default().to_owned(),
        event
            .session_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        criteria.join(" "),
        if event.metadata().is_empty() {
            String::new()
        } else {
            serde_json::Value::Object(event.metadata().clone()).to_string()
        },
        stored.key_id.clone(),
        hex::encode(stored.prev_hash),
        hex::encode(stored.hash),
    ];
    Ok(row.into_iter().map(neutralize_formula).collect())
}

/// Prefixes a cell a spreadsheet would evaluate (`= + - @`, tab, carriage return) with `'`
/// (OWASP CSV injection); for every CSV the SDK writes.
#[must_use]
pub fn neutralize_formula(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_error(error: csv::Error) -> ExportError {
    ExportError::Io(std::io::Error::other(error))
}

#[cfg(test)]
mod tests {
    use super::neutralize_formula;

    #[test]
    fn formula_cells_are_neutralized() {
        assert_eq!(
            neutralize_formula("=HYPERLINK(\"x\")".into()),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(neutralize_formula("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(neutralize_formula("-1+2".into()), "'-1+2");
        assert_eq!(neutralize_formula("alice".into()), "alice");
        assert_eq!(neutralize_formula(String::new()), "");
    }
}
