//! Reports: findings written for people (human) and for machines (JSON, JSONL, SARIF, CSV,
//! and gitleaks' JSON shape).
//!
//! stdout carries only the report; the summary and progress go to stderr, so
//! `leakhound scan --format json . > report.json` is always valid JSON. Secrets are masked in
//! every format unless the user passes `--show-secrets`: a report is often pasted into a CI log.

mod csv;
mod gitleaks_json;
mod human;
mod json;
pub mod mask;
mod sarif;

use std::io::{self, Write};

use clap::ValueEnum;

use crate::{pipeline::ScanOutput, rules::RuleSet};

pub use gitleaks_json::gitleaks_fingerprint;
pub use mask::mask_secret;

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text, coloured on a terminal.
    Human,
    /// One JSON document with findings, errors and a summary.
    Json,
    /// One JSON finding per line.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// gitleaks' JSON report: an array of objects with gitleaks' field names, one per location.
    GitleaksJson,
    /// Comma-separated values (RFC 4180), one row per location, with a header row.
    Csv,
}

/// How a report is written.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportOptions {
    /// Print secrets in full instead of masked.
    pub show_secrets: bool,
    /// ANSI colours (human format only).
    pub color: bool,
}

/// Writes `output` in `format`.
pub fn write_report(
    out: &mut dyn Write,
    format: Format,
    output: &ScanOutput,
    rules: &RuleSet,
    options: ReportOptions,
) -> io::Result<()> {
    match format {
        Format::Human => human::write(out, output, options),
        Format::Json => json::write_document(out, output, options),
        Format::Jsonl => json::write_lines(out, output, options),
        Format::Sarif => sarif::write(out, output, rules, options),
        Format::GitleaksJson => gitleaks_json::write(out, output, rules, options),
        Format::Csv => csv::write(out, output, options),
    }
}

/// The one-line summary written to stderr after a scan.
pub fn summary_line(output: &ScanOutput) -> String {
    let stats = &output.stats;
    let locations: usize = output.findings.iter().map(|f| f.locations.len()).sum();
    let mut line = format!(
        "scanned {} blobs ({}) in {:.2}s: {} findings in {} locations",
        stats.blobs_scanned,
        human_bytes(stats.bytes_scanned),
        output.elapsed.as_secs_f64(),
        output.findings.len(),
        locations,
    );
    let skipped = stats.skipped_total();
    if skipped > 0 {
        let parts: Vec<String> = [
            (stats.skipped_binary, "binary"),
            (stats.skipped_too_large, "too large"),
            (stats.skipped_symlink, "symlink"),
            (stats.skipped_special, "special"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        line.push_str(&format!("; skipped {skipped} ({})", parts.join(", ")));
    }
    if output.suppressed.total() > 0 {
        line.push_str(&format!(
            "; suppressed {} ({})",
            output.suppressed.total(),
            output.suppressed.describe()
        ));
    }
    if stats.errors > 0 {
        line.push_str(&format!("; {} errors", stats.errors));
    }
    if let Some(run) = &output.validation {
        let c = run.counts;
        line.push_str(&format!(
            "; validation: {} live, {} dead, {} unknown, {} unverifiable ({} unique secrets, {} requests)",
            c.live, c.dead, c.unknown, c.unverifiable, run.unique, run.requests
        ));
    }
    line
}

/// 1234567 → "1.2 MiB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_are_humane() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(2048), "2.0 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 + 1), "5.0 MiB");
    }
}
