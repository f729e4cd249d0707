//! `soc2ctl review report`: an access-review campaign's evidence for auditors.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use soc2_core::truncate_to_micros;
use soc2_rbac::review::{CampaignId, ItemFilter, ReviewReport};
use time::OffsetDateTime;

use crate::database::{self, read_only_keys, store_failure};
use crate::target::DatabaseArgs;
use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum ReviewCommand {
    /// Write the report of an access-review campaign (SOC 2 CC6.2, CC6.3): every item with
    /// the user's facts, the reviewer, the decision, its comment and time.
    Report {
        /// The campaign's id (a UUID).
        campaign: CampaignId,
        #[command(flatten)]
        target: DatabaseArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ReportFormat {
    /// CSV with a header row; cells a spreadsheet would run as a formula start with `'`.
    Csv,
    /// One JSON document.
    Json,
}

pub(crate) async fn run(command: ReviewCommand) -> Result<(), Failure> {
    let ReviewCommand::Report {
        campaign,
        target,
        format,
        output,
    } = command;
    let target = target.resolve()?;
    let reviews = database::open(&target.url, &read_only_keys()?)
        .await?
        .reviews;
    let failed = |error| store_failure(&target.url, &error);
    let generated_at = truncate_to_micros(OffsetDateTime::now_utc());
    let found = reviews
        .campaign(campaign)
        .await
        .map_err(failed)?
        .ok_or_else(|| Failure::config(format!("unknown campaign {campaign}")))?;
    let items = reviews
        .items(campaign, ItemFilter::default())
        .await
        .map_err(failed)?;
    let report = ReviewReport {
        campaign: found,
        items,
        generated_at,
    };
    let text = match format {
        ReportFormat::Csv => report.to_csv(),
        ReportFormat::Json => report.to_json().map(|json| json + "\n"),
    }
    .map_err(|e| Failure::config(e.to_string()))?;
    output::write(output.as_deref(), &text)
}
