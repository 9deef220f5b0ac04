//! Input of `leakhound validate` and `leakhound revoke`: a previous JSON report
//! (schema_version 1), a JSONL report, or raw tokens one per line, turned back into findings.

use serde::Deserialize;

use crate::{
    engine::Scanner,
    finding::{Finding, FindingCollector, Location, Related, Snippet},
    rules::{Confidence, RuleSet},
    source::Provenance,
};

/// Why an input could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// The report was written without `--show-secrets`: nothing to validate.
    Masked,
    /// A report of another schema version.
    Version(u64),
    /// A JSON line or document that is not a leakhound report.
    Malformed(String),
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Masked => f.write_str(
                "the report's secrets are masked: rerun the scan with --show-secrets (and keep \
                 that report safe) to validate them",
            ),
            InputError::Version(v) => {
                write!(f, "report schema_version {v} is not supported (1 is)")
            }
            InputError::Malformed(m) => write!(f, "not a leakhound report: {m}"),
        }
    }
}

impl std::error::Error for InputError {}

#[derive(Deserialize)]
struct Document {
    schema_version: u64,
    findings: Vec<ReportFinding>,
}

#[derive(Deserialize)]
struct ReportFinding {
    id: String,
    rule_id: String,
    #[serde(default)]
    rule_name: String,
    #[serde(default)]
    provider: String,
    confidence: Confidence,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    entropy: f64,
    #[serde(default)]
    locations: Vec<ReportLocation>,
    #[serde(default)]
    related: Vec<ReportRelated>,
}

#[derive(Deserialize)]
struct ReportLocation {
    path: String,
    line: usize,
    column: usize,
    #[serde(default)]
    end_line: usize,
    #[serde(default)]
    end_column: usize,
    #[serde(default)]
    offset: usize,
    #[serde(default)]
    fingerprint: String,
    #[serde(default)]
    snippet: String,
}

#[derive(Deserialize)]
struct ReportRelated {
    id: String,
    rule_id: String,
    path: String,
    line: usize,
}

/// Reads findings from `text`: a JSON report, a JSONL report, or raw tokens (one per line,
/// each recognised by running the scanner over it). `name` labels raw-token locations.
pub fn read_findings(
    text: &str,
    name: &str,
    scanner: &Scanner,
    rules: &RuleSet,
) -> Result<Vec<Finding>, InputError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(document) = serde_json::from_str::<Document>(trimmed) {
            if document.schema_version != 1 {
                return Err(InputError::Version(document.schema_version));
            }
            return convert(document.findings, rules);
        }
        let mut findings = Vec::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let finding: ReportFinding = serde_json::from_str(line)
                .map_err(|e| InputError::Malformed(format!("line {}: {e}", i + 1)))?;
            findings.push(finding);
        }
        return convert(findings, rules);
    }
    Ok(raw_tokens(text, name, scanner))
}

/// Every line is scanned as its own blob, so each token is recognised alone.
fn raw_tokens(text: &str, name: &str, scanner: &Scanner) -> Vec<Finding> {
    let provenance = Provenance::File {
        path: name.to_string(),
    };
    // Every token listed is wanted: no pragma or allowlist applies to a list of tokens.
    let mut suppressor = crate::suppress::Suppressor::default();
    suppressor.pragmas.enabled = false;
    let mut collector = FindingCollector::new(std::sync::Arc::new(suppressor));
    let data = text.as_bytes();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        let matches: Vec<_> = scanner
            .scan(line.as_bytes())
            .into_iter()
            .map(|mut m| {
                m.start += start;
                m.end += start;
                m.match_start += start;
                m.match_end += start;
                for part in &mut m.parts {
                    part.1 += start;
                    part.2 += start;
                }
                m
            })
            .collect();
        if !matches.is_empty() {
            collector.add(scanner, &provenance, &data[..end], &matches);
        }
        start = end;
    }
    collector.into_findings()
}

fn convert(findings: Vec<ReportFinding>, rules: &RuleSet) -> Result<Vec<Finding>, InputError> {
    findings
        .into_iter()
        .map(|f| {
            let secret = f.secret.ok_or(InputError::Masked)?;
            let rule = rules.get(&f.rule_id);
            let locations = f
                .locations
                .into_iter()
                .map(|l| location(l, &secret))
                .collect();
            Ok(Finding {
                id: f.id,
                rule_name: rule.map_or(f.rule_name, |r| r.name.clone()),
                provider: rule.map_or(f.provider, |r| r.provider.clone()),
                rule_id: f.rule_id,
                confidence: f.confidence,
                secret,
                entropy: f.entropy,
                locations,
                related: f
                    .related
                    .into_iter()
                    .map(|r| Related {
                        finding_id: r.id,
                        rule_id: r.rule_id,
                        path: r.path,
                        line: r.line,
                    })
                    .collect(),
                validation: None,
                // Reports never carry parts (they may be secret): GCP service accounts and
                // Azure keys read from a report stay unverifiable.
                parts: Default::default(),
            })
        })
        .collect()
}

/// A report location; its snippet is split around the secret again so reports can mask it.
fn location(l: ReportLocation, secret: &str) -> Location {
    let first_line = secret.lines().next().unwrap_or_default();
    let snippet = match l
        .snippet
        .find(first_line)
        .filter(|_| !first_line.is_empty())
    {
        Some(at) => Snippet {
            before: l.snippet[..at].to_string(),
            secret: first_line.to_string(),
            after: l.snippet[at + first_line.len()..].to_string(),
        },
        None => Snippet {
            before: l.snippet.clone(),
            secret: String::new(),
            after: String::new(),
        },
    };
    Location {
        relative_path: l.path.clone(),
        provenance: Provenance::File { path: l.path },
        line: l.line,
        column: l.column,
        end_line: l.end_line.max(l.line),
        end_column: l.end_column,
        offset: l.offset,
        snippet,
        fingerprint: l.fingerprint,
        commit_allowlists: Vec::new(),
        match_before: String::new(),
        match_after: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_tokens_and_masked_reports() {
        let rules = RuleSet::builtin().unwrap();
        let scanner = Scanner::new(&rules);
        let token = "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";
        let text = format!("{token}\nnot a token\n{token}\n");
        let findings = read_findings(&text, "tokens.txt", &scanner, &rules).unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule_id, "huggingface-user-token");
        assert_eq!(findings[0].locations.len(), 2);
        assert_eq!(findings[0].locations[1].line, 3);

        let masked = r#"{"schema_version":1,"findings":[{"id":"x","rule_id":"huggingface-user-token","confidence":"high","secret_masked":"hf_KGp********","locations":[]}]}"#;
        assert_eq!(
            read_findings(masked, "r.json", &scanner, &rules).unwrap_err(),
            InputError::Masked
        );
    }
}
