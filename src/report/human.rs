//! The human report: one block per finding, most important first, secrets masked.

use std::io::{self, Write};

use super::{
    json::{render_snippet, JsonHub},
    mask_secret, ReportOptions,
};
use crate::{
    finding::{Finding, Location},
    pipeline::ScanOutput,
    rules::Confidence,
};

/// At most this many locations are listed per finding; the rest are counted.
const MAX_LOCATIONS_SHOWN: usize = 10;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

pub fn write(out: &mut dyn Write, output: &ScanOutput, options: ReportOptions) -> io::Result<()> {
    let style = Style { on: options.color };
    let mut findings: Vec<&Finding> = output.findings.iter().collect();
    // Most confident first; the scan order breaks ties.
    findings.sort_by_key(|f| std::cmp::Reverse(f.confidence));
    for finding in findings {
        write_finding(out, finding, options, &style)?;
    }
    // Errors go to stderr (see `cli::scan`), so stdout holds only findings.
    Ok(())
}

fn write_finding(
    out: &mut dyn Write,
    finding: &Finding,
    options: ReportOptions,
    style: &Style,
) -> io::Result<()> {
    let (color, label) = match finding.confidence {
        Confidence::High => ("1;31", "HIGH  "),
        Confidence::Medium => ("1;33", "MEDIUM"),
        Confidence::Low => ("1;36", "LOW   "),
    };
    writeln!(
        out,
        "{} {} {}",
        style.paint(color, label),
        style.paint("1", &finding.rule_name),
        style.paint("2", &format!("[{}]", finding.rule_id)),
    )?;
    let secret = if options.show_secrets {
        finding.secret.clone()
    } else {
        mask_secret(&finding.secret)
    };
    writeln!(out, "  secret:  {secret}  (entropy {:.2})", finding.entropy)?;
    if let Some(validation) = &finding.validation {
        let color = match validation.outcome {
            crate::validate::Outcome::Live { .. } => "1;31",
            crate::validate::Outcome::Dead { .. } => "32",
            _ => "33",
        };
        writeln!(
            out,
            "  status:  {}",
            style.paint(color, &validation.describe())
        )?;
    }
    for (i, location) in finding
        .locations
        .iter()
        .take(MAX_LOCATIONS_SHOWN)
        .enumerate()
    {
        let label = if i == 0 { "  found:  " } else { "          " };
        let mut place = format!(
            "{}:{}:{}",
            location.provenance, location.line, location.column
        );
        if let Some(within) = location.provenance.within() {
            place.push_str(&format!(" ({within})"));
        }
        writeln!(
            out,
            "{label} {}{}",
            style.paint("36", &place),
            git_detail(location, style)
        )?;
    }
    if finding.locations.len() > MAX_LOCATIONS_SHOWN {
        writeln!(
            out,
            "           … and {} more locations",
            finding.locations.len() - MAX_LOCATIONS_SHOWN
        )?;
    }
    for related in &finding.related {
        writeln!(
            out,
            "  pairs:   {} at {}:{}",
            related.rule_id, related.path, related.line
        )?;
    }
    writeln!(
        out,
        "  line:    {}",
        render_snippet(&finding.locations[0], options).trim()
    )?;
    if let Some(hub) = JsonHub::of(&finding.locations[0]) {
        writeln!(out, "  link:    {}", hub.url())?;
    }
    writeln!(out)
}

/// For a git blob: the commit that introduced it, its author and date, and whether it is gone
/// from every branch.
fn git_detail(location: &Location, style: &Style) -> String {
    let Some(git) = location.provenance.git() else {
        return String::new();
    };
    let mut detail = String::new();
    if let Some(commit) = &git.commit {
        detail.push_str(&format!(
            "  commit {} {} <{}> {}",
            &commit.id[..commit.id.len().min(10)],
            commit.author_name,
            commit.author_email,
            commit.author_date,
        ));
    }
    if git.present_in.is_empty() {
        detail.push_str(&style.paint("33", "  [deleted: history only]"));
    } else {
        detail.push_str(&format!("  [in {}]", git.present_in.join(", ")));
    }
    detail
}
