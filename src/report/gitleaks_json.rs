//! `--format gitleaks-json`: gitleaks' JSON report shape, so dashboards and scripts written
//! for gitleaks keep working.
//!
//! gitleaks writes a JSON array with one object per finding location, with Go's field names
//! (`RuleID`, `StartLine`, `Secret`, ...; gitleaks v8 `report/finding.go`). The mapping:
//! `Description` is our rule name; line and columns are the secret's (gitleaks gives the
//! whole match's, which differs only when a rule's `secretGroup` starts on a later line);
//! `EndColumn` is inclusive, as in gitleaks; `Date` is the author date in RFC 3339 with its
//! offset; `Message` is the commit's summary line; `Link` is present for Hub findings only.
//! `Fingerprint` is gitleaks' `commit:file:rule:line` (or `file:rule:line` outside git), so it
//! can be pasted into `.gitleaksignore`, which leakhound reads too. `Secret` and `Match` are
//! masked unless `--show-secrets`, as gitleaks' `--redact` would hide them.

use std::io::{self, Write};

use serde::Serialize;

use super::{json::JsonHub, mask_secret, ReportOptions};
use crate::{
    finding::{Finding, Location},
    pipeline::ScanOutput,
    rules::RuleSet,
};

/// One gitleaks finding. Field order and names follow gitleaks' `report.Finding`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GitleaksFinding<'a> {
    #[serde(rename = "RuleID")]
    rule_id: &'a str,
    description: &'a str,
    start_line: usize,
    end_line: usize,
    start_column: usize,
    end_column: usize,
    #[serde(rename = "Match")]
    matched: String,
    secret: String,
    file: &'a str,
    symlink_file: &'a str,
    commit: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    entropy: f32,
    author: &'a str,
    email: &'a str,
    date: &'a str,
    message: &'a str,
    tags: &'a [String],
    fingerprint: String,
}

/// gitleaks' fingerprint of a location: `commit:file:rule:line`, or `file:rule:line`.
pub fn gitleaks_fingerprint(location: &Location, rule_id: &str) -> String {
    let file = &location.relative_path;
    match commit_of(location) {
        Some(commit) => format!("{commit}:{file}:{rule_id}:{}", location.line),
        None => format!("{file}:{rule_id}:{}", location.line),
    }
}

fn commit_of(location: &Location) -> Option<&str> {
    location
        .provenance
        .git()
        .and_then(|git| git.commit.as_ref())
        .map(|commit| commit.id.as_str())
}

fn convert<'a>(
    finding: &'a Finding,
    location: &'a Location,
    tags: &'a [String],
    options: ReportOptions,
) -> GitleaksFinding<'a> {
    let secret = if options.show_secrets {
        finding.secret.clone()
    } else {
        mask_secret(&finding.secret)
    };
    let commit = location
        .provenance
        .git()
        .and_then(|git| git.commit.as_ref());
    GitleaksFinding {
        rule_id: &finding.rule_id,
        description: &finding.rule_name,
        start_line: location.line,
        end_line: location.end_line,
        start_column: location.column,
        end_column: location.end_column.saturating_sub(1).max(1),
        matched: format!("{}{secret}{}", location.match_before, location.match_after),
        secret,
        file: &location.relative_path,
        symlink_file: "",
        commit: commit.map_or("", |c| c.id.as_str()),
        link: JsonHub::of(location).map(|hub| hub.url().to_string()),
        entropy: finding.entropy as f32,
        author: commit.map_or("", |c| c.author_name.as_str()),
        email: commit.map_or("", |c| c.author_email.as_str()),
        date: commit.map_or("", |c| c.author_date.as_str()),
        message: commit.map_or("", |c| c.summary.as_str()),
        tags,
        fingerprint: gitleaks_fingerprint(location, &finding.rule_id),
    }
}

pub fn write(
    out: &mut dyn Write,
    output: &ScanOutput,
    rules: &RuleSet,
    options: ReportOptions,
) -> io::Result<()> {
    let no_tags: &[String] = &[];
    let entries: Vec<GitleaksFinding> = output
        .findings
        .iter()
        .flat_map(|finding| {
            let tags = rules
                .get(&finding.rule_id)
                .map_or(no_tags, |rule| rule.tags.as_slice());
            finding
                .locations
                .iter()
                .map(move |location| convert(finding, location, tags, options))
        })
        .collect();
    // gitleaks indents with one space.
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, formatter);
    entries.serialize(&mut serializer)?;
    writeln!(out)
}
