//! SARIF 2.1.0, as GitHub code scanning accepts it: one result per location, with the rule
//! metadata, a region, and a `partialFingerprints` entry so alerts track across runs.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{
    json::{render_snippet, JsonHub},
    mask_secret, ReportOptions,
};
use crate::{
    finding::{Finding, Location},
    pipeline::ScanOutput,
    rules::{Confidence, Rule, RuleSet},
    source::Provenance,
};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn write(
    out: &mut dyn Write,
    output: &ScanOutput,
    rules: &RuleSet,
    options: ReportOptions,
) -> io::Result<()> {
    // Only rules with results are listed: the full pack would add hundreds of entries.
    let mut used: Vec<&str> = output.findings.iter().map(|f| f.rule_id.as_str()).collect();
    used.sort_unstable();
    used.dedup();
    let rule_objects: Vec<Value> = used
        .iter()
        .map(|id| match rules.get(id) {
            Some(rule) => rule_descriptor(rule),
            None => json!({ "id": id }),
        })
        .collect();
    let results: Vec<Value> = output
        .findings
        .iter()
        .flat_map(|finding| {
            let index = used.binary_search(&finding.rule_id.as_str()).unwrap_or(0);
            finding
                .locations
                .iter()
                .map(move |location| result(finding, location, index, options))
        })
        .collect();
    let notifications: Vec<Value> = output
        .errors
        .iter()
        .map(|error| {
            json!({
                "level": "error",
                "message": { "text": format!("{}: {}", error.path, error.message) },
            })
        })
        .collect();
    let document = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "leakhound",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/leakhound/leakhound",
                "rules": rule_objects,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn level(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

fn rule_descriptor(rule: &Rule) -> Value {
    let mut descriptor = json!({
        "id": rule.id,
        "name": pascal_case(&rule.id),
        "shortDescription": { "text": rule.name },
        "fullDescription": { "text": format!("{} ({} secret). Rotate it at the provider, then remove it from the code and its history.", rule.name, rule.provider) },
        "defaultConfiguration": { "level": level(rule.confidence) },
        "properties": {
            "provider": rule.provider,
            "confidence": rule.confidence.as_str(),
            "tags": ["security", "secret"],
            "security-severity": match rule.confidence {
                Confidence::High => "9.0",
                Confidence::Medium => "7.0",
                Confidence::Low => "4.0",
            },
        },
    });
    if let Some(uri) = rule.references.first() {
        descriptor["helpUri"] = json!(uri);
    }
    descriptor
}

fn result(
    finding: &Finding,
    location: &Location,
    rule_index: usize,
    options: ReportOptions,
) -> Value {
    let secret = if options.show_secrets {
        finding.secret.clone()
    } else {
        mask_secret(&finding.secret)
    };
    let mut result = json!({
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": level(finding.confidence),
        "message": { "text": message(finding, location, &secret) },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": artifact_uri(&location.provenance) },
                "region": {
                    "startLine": location.line,
                    "startColumn": location.column,
                    "endLine": location.end_line,
                    "endColumn": location.end_column,
                    "charOffset": location.offset,
                    "snippet": { "text": render_snippet(location, options) },
                },
            },
        }],
        "partialFingerprints": { "leakhound/v1": location.fingerprint },
        "properties": properties(finding, location),
    });
    if let Some(hub) = JsonHub::of(location) {
        result["locations"][0]["properties"] = json!({ "hub": hub });
    }
    result
}

fn properties(finding: &Finding, location: &Location) -> Value {
    let mut properties = json!({
        "findingId": finding.id,
        "provider": finding.provider,
        "confidence": finding.confidence.as_str(),
        "entropy": (finding.entropy * 1000.0).round() / 1000.0,
    });
    if !finding.related.is_empty() {
        properties["related"] = finding
            .related
            .iter()
            .map(|r| json!({ "findingId": r.finding_id, "ruleId": r.rule_id, "path": r.path, "line": r.line }))
            .collect();
    }
    if let Some(validation) = &finding.validation {
        properties["validation"] = validation.to_json();
    }
    if let Some(git) = location.provenance.git() {
        properties["repository"] = json!(git.repository);
        properties["blobId"] = json!(git.blob_id);
        properties["presentInBranches"] = json!(git.present_in);
        properties["deleted"] = json!(git.present_in.is_empty());
        if let Some(commit) = &git.commit {
            properties["commit"] = json!({
                "id": commit.id,
                "authorName": commit.author_name,
                "authorEmail": commit.author_email,
                "authorDate": commit.author_date,
                "committerDate": commit.committer_date,
                "summary": commit.summary,
            });
        }
    }
    properties
}

/// "<rule> found: <secret>", plus where inside the file for extracted content (the region's
/// line and column then count within that part, not within the file).
fn message(finding: &Finding, location: &Location, secret: &str) -> String {
    let mut text = format!("{} found: {secret}", finding.rule_name);
    if let Provenance::Extracted { .. } = location.provenance {
        text.push_str(&format!(" (in {}", location.provenance.path()));
        if let Some(within) = location.provenance.within() {
            text.push_str(&format!(", {within}"));
        }
        text.push(')');
    }
    text
}

/// A URI reference for a path: relative paths stay relative (GitHub resolves them against the
/// repository root), absolute ones become `file://` URIs; reserved bytes are percent-encoded.
fn artifact_uri(provenance: &Provenance) -> String {
    let path = match provenance {
        Provenance::File { path } => path.as_str(),
        // A path inside the repository, relative to its root.
        Provenance::Git(git) => git.path.as_str(),
        Provenance::Stdin => return "stdin".to_string(),
        // The file at its commit, or the discussion: an absolute https URI.
        Provenance::Hub(location) => return location.url(None),
        // Extracted content points at the file it came from; the message says where inside.
        Provenance::Extracted { parent, .. } => return artifact_uri(parent),
    };
    let encoded = crate::source::percent_encode_path(path);
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

fn pascal_case(id: &str) -> String {
    id.split(['-', '.'])
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        let file = |p: &str| Provenance::File { path: p.into() };
        assert_eq!(artifact_uri(&file("src/a b.py")), "src/a%20b.py");
        assert_eq!(artifact_uri(&file("/tmp/x#y")), "file:///tmp/x%23y");
        assert_eq!(artifact_uri(&Provenance::Stdin), "stdin");
    }

    #[test]
    fn pascal() {
        assert_eq!(
            pascal_case("huggingface-user-token"),
            "HuggingfaceUserToken"
        );
    }
}
