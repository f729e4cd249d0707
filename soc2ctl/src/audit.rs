//! `soc2ctl audit …`: verify, export, head, keygen.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use soc2_audit::{
    Checkpoint, ExportFormat, TimeRange, VerifyError, VerifyRequest, export, purge_before, verify,
};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::database::{self, read_only_keys, store_failure};
use crate::keys::{KeySource, generate};
use crate::target::DatabaseArgs;
use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify the hash chain: exit 0 when intact, 1 with the first bad seq when not.
    Verify {
        #[command(flatten)]
        target: DatabaseArgs,
        #[command(flatten)]
        keys: KeySource,
        /// First sequence number to check (default: the start of the log).
        #[arg(long)]
        from_seq: Option<u64>,
        /// Last sequence number to check (default: the signed head).
        #[arg(long)]
        to_seq: Option<u64>,
        /// A head checkpoint kept outside the database (the JSON `soc2ctl audit head` printed);
        /// the log must still contain it.
        #[arg(long)]
        expected_head: Option<PathBuf>,
    },
    /// Export the events of a time range for auditors.
    Export {
        #[command(flatten)]
        target: DatabaseArgs,
        /// Start, inclusive: RFC 3339 (`2026-10-01T00:00:00Z`) or a UTC date (`2026-10-01`).
        #[arg(long, value_parser = parse_time)]
        from: OffsetDateTime,
        /// End, exclusive, in the same formats.
        #[arg(long, value_parser = parse_time)]
        to: OffsetDateTime,
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Delete events older than the retention period, up to a signed anchor (the rest still
    /// verifies); the purge itself is logged as `audit.retention.purged`.
    Purge {
        #[command(flatten)]
        target: DatabaseArgs,
        #[command(flatten)]
        keys: KeySource,
        /// Keep this many days of events (at least 1; SOC 2 Type II evidence usually needs 365+).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        older_than_days: u32,
    },
    /// Print the signed head checkpoint as JSON, to keep outside the database.
    Head {
        #[command(flatten)]
        target: DatabaseArgs,
    },
    /// Print a new random audit key as an `id=base64key` line for a keys file.
    Keygen {
        /// The key's id, e.g. the month it becomes active.
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// JSON Lines, with the chain fields (re-verifiable).
    Jsonl,
    /// CSV with a header row.
    Csv,
}

pub(crate) async fn run(command: AuditCommand) -> Result<(), Failure> {
    match command {
        AuditCommand::Verify {
            target,
            keys,
            from_seq,
            to_seq,
            expected_head,
        } => {
            let target = target.resolve()?;
            let keys = keys.load(&target)?;
            let mut request = match (from_seq, to_seq) {
                (None, None) => VerifyRequest::all(),
                (from, to) => VerifyRequest::seqs(from.unwrap_or(1)..=to.unwrap_or(u64::MAX)),
            };
            if let Some(path) = expected_head {
                request = request.with_expected_head(read_checkpoint(&path)?);
            }
            let store = database::open(&target.url, &keys).await?.audit;
            match verify(store.as_ref(), &keys, &request).await {
                Ok(verified) => {
                    println!(
                        "audit chain intact: {} events verified, last seq {}",
                        verified.checked, verified.last_seq
                    );
                    Ok(())
                }
                Err(error) => Err(verify_failure(
                    &target.url,
                    error,
                    "audit chain does not verify",
                )),
            }
        }
        AuditCommand::Export {
            target,
            from,
            to,
            format,
            output,
        } => {
            if from >= to {
                return Err(Failure::config("--from must be before --to"));
            }
            let target = target.resolve()?;
            let store = database::open(&target.url, &read_only_keys()?).await?.audit;
            let format = match format {
                Format::Jsonl => ExportFormat::JsonLines,
                Format::Csv => ExportFormat::Csv,
            };
            let mut out = output::open(output.as_deref())?;
            let written = export(
                store.as_ref(),
                &TimeRange::new(from, to),
                format,
                out.as_mut(),
            )
            .await
            .map_err(|error| match error {
                soc2_audit::ExportError::Store(error) => store_failure(&target.url, &error),
                other => Failure::config(other.to_string()),
            })?;
            eprintln!("exported {written} events");
            Ok(())
        }
        AuditCommand::Purge {
            target,
            keys,
            older_than_days,
        } => {
            let target = target.resolve()?;
            let keys = keys.load(&target)?;
            let store = database::open(&target.url, &keys).await?.audit;
            let now = OffsetDateTime::now_utc();
            let cutoff = now - time::Duration::days(i64::from(older_than_days));
            match purge_before(store.as_ref(), &keys, cutoff, now).await {
                Ok(report) => {
                    println!(
                        "purged {} events; the log now starts after seq {}",
                        report.deleted, report.through_seq
                    );
                    Ok(())
                }
                Err(error) => Err(verify_failure(
                    &target.url,
                    error,
                    "refusing to purge, the audit chain does not verify",
                )),
            }
        }
        AuditCommand::Head { target } => {
            let target = target.resolve()?;
            let store = database::open(&target.url, &read_only_keys()?).await?.audit;
            let head = store
                .head()
                .await
                .map_err(|e| store_failure(&target.url, &e))?;
            match head {
                Some(head) => {
                    println!(
                        "{}",
                        serde_json::to_string(&head).map_err(|e| Failure::config(e.to_string()))?
                    );
                    Ok(())
                }
                None => Err(Failure::config(
                    "the audit log is empty: no head checkpoint yet",
                )),
            }
        }
        AuditCommand::Keygen { id } => {
            println!("{}", generate(&id)?);
            Ok(())
        }
    }
}

/// A verification error as an exit code (1 for a broken chain, 2 otherwise) and message.
fn verify_failure(database_url: &str, error: VerifyError, what: &str) -> Failure {
    match error {
        VerifyError::Violation(violation) => Failure::failed(format!(
            "{what}: first bad seq {}: {} ({})",
            violation.seq,
            violation.kind.name(),
            violation.detail
        )),
        VerifyError::Store(error) => store_failure(database_url, &error),
        other => Failure::config(other.to_string()),
    }
}

fn read_checkpoint(path: &PathBuf) -> Result<Checkpoint, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::config(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::config(format!("{} is not a checkpoint: {e}", path.display())))
}

/// Parses RFC 3339 or a plain UTC date (midnight).
fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map(|date| date.midnight().assume_utc())
        .map_err(|_| {
            format!(
                "`{text}` is not an RFC 3339 time (2026-10-01T00:00:00Z) or a date (2026-10-01)"
            )
        })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::parse_time;

    #[test]
    fn times_parse_as_rfc3339_or_dates() {
        assert_eq!(
            parse_time("2026-10-01T12:30:00+02:00").unwrap(),
            datetime!(2026-10-01 10:30 UTC)
        );
        assert_eq!(
            parse_time("2026-10-01").unwrap(),
            datetime!(2026-10-01 00:00 UTC)
        );
        assert!(
            parse_time("yesterday")
                .unwrap_err()
                .contains("not an RFC 3339 time")
        );
        assert!(parse_time("2026-13-01").is_err());
    }
}
