//! JSON and JSONL reports. The schema is documented in the README ("JSON report"); fields are
//! only ever added, and `schema_version` changes if one is removed or changes meaning.

use std::io::{self, Write};

use serde::Serialize;

use super::{mask_secret, ReportOptions};
use crate::{
    finding::{Finding, Location},
    pipeline::{ScanError, ScanOutput},
    source::{hub::HubLocation, CommitInfo},
};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [ScanError],
    summary: Summary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// One finding: a unique (rule, secret) with all its locations.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    id: &'a str,
    rule_id: &'a str,
    rule_name: &'a str,
    provider: &'a str,
    confidence: &'static str,
    secret_masked: String,
    /// Present only with `--show-secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
    entropy: f64,
    locations: Vec<JsonLocation<'a>>,
    /// Other parts of the same credential found next to it (an AWS key id and its secret).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
    /// Present when the run validated secrets (`--validate`, `leakhound validate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    id: &'a str,
    rule_id: &'a str,
    path: &'a str,
    line: usize,
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    source: &'static str,
    path: &'a str,
    /// Where inside the path, for extracted content: `cell 3`, `pickle string at offset 91`,
    /// `decoded from base64 at line 7`. Line and column then count within that part.
    #[serde(skip_serializing_if = "Option::is_none")]
    within: Option<String>,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    offset: usize,
    fingerprint: &'a str,
    snippet: String,
    /// Present for blobs from git history.
    #[serde(skip_serializing_if = "Option::is_none")]
    git: Option<JsonGit<'a>>,
    /// Hub findings only: repo, commit, path or discussion, and the web URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    hub: Option<JsonHub<'a>>,
}

/// Where in a repository's history a secret sits.
#[derive(Serialize)]
struct JsonGit<'a> {
    repository: &'a str,
    blob_id: &'a str,
    /// The first commit whose tree has the blob.
    commit: Option<JsonCommit<'a>>,
    /// Local branches whose head still has the blob.
    present_in_branches: &'a [String],
    /// True when no branch head has it any more: it lives only in history.
    deleted: bool,
}

#[derive(Serialize)]
struct JsonCommit<'a> {
    id: &'a str,
    author_name: &'a str,
    author_email: &'a str,
    author_date: &'a str,
    committer_date: &'a str,
    summary: &'a str,
}

impl<'a> JsonCommit<'a> {
    fn new(commit: &'a CommitInfo) -> Self {
        JsonCommit {
            id: &commit.id,
            author_name: &commit.author_name,
            author_email: &commit.author_email,
            author_date: &commit.author_date,
            committer_date: &commit.committer_date,
            summary: &commit.summary,
        }
    }
}

/// The Hub fields of a location: [`HubLocation`] plus the URL of the line or discussion.
#[derive(Serialize)]
pub struct JsonHub<'a> {
    #[serde(flatten)]
    location: &'a HubLocation,
    url: String,
}

impl<'a> JsonHub<'a> {
    pub fn of(location: &'a Location) -> Option<JsonHub<'a>> {
        let hub = location.provenance.hub()?;
        Some(JsonHub {
            location: hub,
            url: hub.url(Some(location.line)),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[derive(Serialize)]
struct Summary {
    blobs_scanned: u64,
    bytes_scanned: u64,
    skipped: Skipped,
    suppressed: Suppressed,
    errors: u64,
    commits: u64,
    findings: usize,
    locations: usize,
    seconds: f64,
}

/// Finding locations left out by the user's own say-so, by mechanism.
#[derive(Serialize)]
struct Suppressed {
    inline_ignore: u64,
    allowlist: u64,
    ignore_file: u64,
    baseline: u64,
}

#[derive(Serialize)]
struct Skipped {
    binary: u64,
    too_large: u64,
    symlink: u64,
    special: u64,
}

impl<'a> JsonFinding<'a> {
    pub fn new(finding: &'a Finding, options: ReportOptions) -> Self {
        JsonFinding {
            id: &finding.id,
            rule_id: &finding.rule_id,
            rule_name: &finding.rule_name,
            provider: &finding.provider,
            confidence: finding.confidence.as_str(),
            secret_masked: mask_secret(&finding.secret),
            secret: options.show_secrets.then_some(finding.secret.as_str()),
            entropy: (finding.entropy * 1000.0).round() / 1000.0,
            locations: finding
                .locations
                .iter()
                .map(|l| JsonLocation::new(l, options))
                .collect(),
            related: finding
                .related
                .iter()
                .map(|r| JsonRelated {
                    id: &r.finding_id,
                    rule_id: &r.rule_id,
                    path: &r.path,
                    line: r.line,
                })
                .collect(),
            validation: finding.validation.as_ref().map(|v| v.to_json()),
        }
    }
}

impl<'a> JsonLocation<'a> {
    fn new(location: &'a Location, options: ReportOptions) -> Self {
        JsonLocation {
            source: location.provenance.kind(),
            path: location.provenance.path(),
            within: location.provenance.within(),
            line: location.line,
            column: location.column,
            end_line: location.end_line,
            end_column: location.end_column,
            offset: location.offset,
            fingerprint: &location.fingerprint,
            snippet: render_snippet(location, options),
            git: location.provenance.git().map(|git| JsonGit {
                repository: &git.repository,
                blob_id: &git.blob_id,
                commit: git.commit.as_ref().map(JsonCommit::new),
                present_in_branches: &git.present_in,
                deleted: git.present_in.is_empty(),
            }),
            hub: JsonHub::of(location),
        }
    }
}

/// The snippet with the secret masked (or shown with `--show-secrets`).
pub fn render_snippet(location: &Location, options: ReportOptions) -> String {
    let snippet = &location.snippet;
    let secret = if options.show_secrets {
        snippet.secret.clone()
    } else {
        mask_secret(&snippet.secret)
    };
    format!("{}{}{}", snippet.before, secret, snippet.after)
}

pub fn write_document(
    out: &mut dyn Write,
    output: &ScanOutput,
    options: ReportOptions,
) -> io::Result<()> {
    let stats = &output.stats;
    let document = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "leakhound",
            version: env!("CARGO_PKG_VERSION"),
        },
        findings: output
            .findings
            .iter()
            .map(|f| JsonFinding::new(f, options))
            .collect(),
        errors: &output.errors,
        summary: Summary {
            blobs_scanned: stats.blobs_scanned,
            bytes_scanned: stats.bytes_scanned,
            skipped: Skipped {
                binary: stats.skipped_binary,
                too_large: stats.skipped_too_large,
                symlink: stats.skipped_symlink,
                special: stats.skipped_special,
            },
            suppressed: Suppressed {
                inline_ignore: output.suppressed.inline_ignore,
                allowlist: output.suppressed.allowlist,
                ignore_file: output.suppressed.ignore_file,
                baseline: output.suppressed.baseline,
            },
            errors: stats.errors,
            commits: stats.commits,
            findings: output.findings.len(),
            locations: output.findings.iter().map(|f| f.locations.len()).sum(),
            seconds: (output.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

pub fn write_lines(
    out: &mut dyn Write,
    output: &ScanOutput,
    options: ReportOptions,
) -> io::Result<()> {
    for finding in &output.findings {
        serde_json::to_writer(&mut *out, &JsonFinding::new(finding, options))?;
        writeln!(out)?;
    }
    Ok(())
}
