//! Findings: matches folded by secret, with every place each secret was seen.
//!
//! The engine yields [`Match`]es (rule, byte range) per blob. Here each match gets a
//! [`Location`] (line, column, snippet, fingerprint), and identical secrets of one rule fold
//! into a single [`Finding`] that lists all their locations: one leaked token copied into ten
//! files is one problem with ten places to clean, not ten problems.

use std::{collections::BTreeMap, sync::Arc};

use sha2::{Digest, Sha256};

use crate::{
    engine::{Match, Scanner},
    rules::Confidence,
    source::Provenance,
    suppress::{MatchDecision, Suppressed, Suppressor},
    validate::Validation,
};

/// Longest snippet kept around a secret, in characters on each side.
const SNIPPET_CONTEXT: usize = 80;
/// Longest part of a regex match kept on each side of the secret, in characters.
const MATCH_CONTEXT: usize = 200;

/// One place a secret was seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    pub provenance: Provenance,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based column, in Unicode scalar values (invalid UTF-8 bytes count one each).
    pub column: usize,
    /// 1-based line and exclusive column where the secret ends (multi-line keys span lines).
    pub end_line: usize,
    pub end_column: usize,
    /// Byte offset of the secret in the blob.
    pub offset: usize,
    /// The secret's line, cut to [`SNIPPET_CONTEXT`] around it; the report masks the secret.
    pub snippet: Snippet,
    /// Stable id of (rule, secret, path relative to the scanned root): survives line moves,
    /// changes with a rename.
    pub fingerprint: String,
    /// The path relative to the scanned root (the in-repository path for git blobs): what
    /// allowlists, baselines and gitleaks fingerprints compare.
    pub relative_path: String,
    /// The rest of the rule's whole regex match around the secret (gitleaks' `Match` is
    /// `match_before + secret + match_after`), each cut to [`MATCH_CONTEXT`] characters.
    pub match_before: String,
    pub match_after: String,
    /// Allowlists that suppress this location if its commit is one of theirs (decided once
    /// git provenance is known; see `suppress`).
    pub(crate) commit_allowlists: Vec<usize>,
}

/// The line around a secret, split so a report can mask the secret part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snippet {
    pub before: String,
    /// The part of the secret that lies on its first line.
    pub secret: String,
    pub after: String,
}

/// A unique secret found by one rule, with all its locations.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Stable id of (rule, secret).
    pub id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub provider: String,
    pub confidence: Confidence,
    pub secret: String,
    pub entropy: f64,
    pub locations: Vec<Location>,
    /// The other parts of a multi-part credential found next to this one (rule `pairs_with`).
    pub related: Vec<Related>,
    /// Whether the secret is live, set by `--validate` (see [`crate::validate`]).
    pub validation: Option<Validation>,
    /// Named parts of the rule's match besides the secret (`(?P<account>…)`), from its first
    /// location: what a validator needs to check the secret. Never reported: a part can be
    /// secret itself (a service account's private key).
    pub parts: BTreeMap<String, String>,
}

/// A finding that completes another one: the key id next to a secret key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub finding_id: String,
    pub rule_id: String,
    pub path: String,
    pub line: usize,
}

/// How many lines apart two parts of one credential may be to count as a pair.
const PAIR_DISTANCE: usize = 10;

/// Folds matches from many blobs, in any order, into sorted findings, leaving out the ones
/// the [`Suppressor`] says are known.
#[derive(Default)]
pub struct FindingCollector {
    by_secret: BTreeMap<(String, String), Finding>,
    /// `pairs_with` of every rule seen, for linking multi-part credentials at the end.
    pairs: BTreeMap<String, Vec<String>>,
    suppressor: Arc<Suppressor>,
    suppressed: Suppressed,
}

impl FindingCollector {
    pub fn new(suppressor: Arc<Suppressor>) -> Self {
        FindingCollector {
            suppressor,
            ..FindingCollector::default()
        }
    }

    /// How many matches inline ignores and allowlists have suppressed so far.
    pub fn suppressed(&self) -> Suppressed {
        self.suppressed
    }

    /// Adds the matches of one blob.
    pub fn add(
        &mut self,
        scanner: &Scanner,
        provenance: &Provenance,
        data: &[u8],
        matches: &[Match],
    ) {
        let mut cursor = LineCursor::default();
        // Computed once per blob: path rules, allowlists and fingerprints all use it.
        let path = self.suppressor.relative_path(provenance);
        for m in matches {
            let rule = scanner.rule(m.rule);
            // A rule limited to some paths (gitleaks `path`) does not apply elsewhere.
            if let Some(only) = &rule.path {
                if !only.is_match(path.as_bytes()) {
                    continue;
                }
            }
            if !rule.pairs_with.is_empty() {
                self.pairs
                    .entry(rule.id.clone())
                    .or_insert_with(|| rule.pairs_with.clone());
            }
            let commit_allowlists = match self
                .suppressor
                .check_match(&rule.id, provenance, &path, data, m)
            {
                MatchDecision::Suppress(reason) => {
                    self.suppressed.count(reason);
                    continue;
                }
                MatchDecision::Report { commit_allowlists } => commit_allowlists,
            };
            let secret = String::from_utf8_lossy(&data[m.start..m.end]).into_owned();
            let mut location = locate(&mut cursor, data, m, provenance, &rule.id, &secret, &path);
            location.commit_allowlists = commit_allowlists;
            let finding = self
                .by_secret
                .entry((rule.id.clone(), secret.clone()))
                .or_insert_with(|| Finding {
                    id: fingerprint(&[&rule.id, &secret]),
                    rule_id: rule.id.clone(),
                    rule_name: rule.name.clone(),
                    provider: rule.provider.clone(),
                    confidence: rule.confidence,
                    secret,
                    entropy: m.entropy,
                    locations: Vec::new(),
                    related: Vec::new(),
                    validation: None,
                    parts: m
                        .parts
                        .iter()
                        .map(|(name, start, end)| {
                            let value = String::from_utf8_lossy(&data[*start..*end]);
                            (name.to_string(), value.into_owned())
                        })
                        .collect(),
                });
            finding.locations.push(location);
        }
    }

    /// The findings, ordered by first location, each with its locations sorted.
    pub fn into_findings(self) -> Vec<Finding> {
        let pairs = self.pairs;
        let mut findings: Vec<Finding> = self
            .by_secret
            .into_values()
            .map(|mut finding| {
                finding
                    .locations
                    .sort_by(|a, b| (&a.provenance, a.offset).cmp(&(&b.provenance, b.offset)));
                finding
                    .locations
                    .dedup_by(|a, b| a.provenance == b.provenance && a.offset == b.offset);
                finding
            })
            .collect();
        findings.sort_by(|a, b| {
            let key = |f: &Finding| (f.locations[0].provenance.clone(), f.locations[0].offset);
            key(a).cmp(&key(b)).then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        link_pairs(&mut findings, &pairs);
        findings
    }
}

/// Marks findings of paired rules (`pairs_with`, either direction) that sit within
/// [`PAIR_DISTANCE`] lines of each other in the same file or blob as related, both ways.
fn link_pairs(findings: &mut [Finding], pairs: &BTreeMap<String, Vec<String>>) {
    let paired = |a: &str, b: &str| {
        pairs.get(a).is_some_and(|p| p.iter().any(|id| id == b))
            || pairs.get(b).is_some_and(|p| p.iter().any(|id| id == a))
    };
    let candidates: Vec<usize> = (0..findings.len())
        .filter(|&i| {
            findings
                .iter()
                .any(|other| paired(&findings[i].rule_id, &other.rule_id))
        })
        .collect();
    let mut links: Vec<(usize, Related)> = Vec::new();
    for (n, &i) in candidates.iter().enumerate() {
        for &j in &candidates[n + 1..] {
            let (a, b) = (&findings[i], &findings[j]);
            if !paired(&a.rule_id, &b.rule_id) {
                continue;
            }
            let near = a.locations.iter().find_map(|la| {
                b.locations
                    .iter()
                    .find(|lb| {
                        la.provenance == lb.provenance && la.line.abs_diff(lb.line) <= PAIR_DISTANCE
                    })
                    .map(|lb| (la, lb))
            });
            if let Some((la, lb)) = near {
                let related = |f: &Finding, l: &Location| Related {
                    finding_id: f.id.clone(),
                    rule_id: f.rule_id.clone(),
                    path: l.provenance.path().to_string(),
                    line: l.line,
                };
                links.push((i, related(b, lb)));
                links.push((j, related(a, la)));
            }
        }
    }
    for (index, related) in links {
        findings[index].related.push(related);
    }
}

/// A short, stable hex id of some strings (SHA-256, first 128 bits). NUL separates the parts
/// so that ("ab", "c") and ("a", "bc") differ.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0u8]);
        }
        hasher.update(part.as_bytes());
    }
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Counts lines incrementally: matches arrive sorted by offset, so a blob is walked once.
#[derive(Default)]
struct LineCursor {
    offset: usize,
    line: usize,
    line_start: usize,
}

impl LineCursor {
    /// The 1-based line number and the start offset of the line holding `offset`.
    fn advance_to(&mut self, data: &[u8], offset: usize) -> (usize, usize) {
        if offset < self.offset {
            *self = LineCursor::default();
        }
        for newline in memchr::memchr_iter(b'\n', &data[self.offset..offset]) {
            self.line += 1;
            self.line_start = self.offset + newline + 1;
        }
        self.offset = offset;
        (self.line + 1, self.line_start)
    }
}

fn locate(
    cursor: &mut LineCursor,
    data: &[u8],
    m: &Match,
    provenance: &Provenance,
    rule_id: &str,
    secret: &str,
    relative_path: &str,
) -> Location {
    let (line, line_start) = cursor.advance_to(data, m.start);
    let column = char_count(&data[line_start..m.start]) + 1;
    let secret_bytes = &data[m.start..m.end];
    let newlines = memchr::memchr_iter(b'\n', secret_bytes).count();
    let (end_line, end_column) = match memchr::memrchr(b'\n', secret_bytes) {
        Some(last) => (line + newlines, char_count(&secret_bytes[last + 1..]) + 1),
        None => (line, column + char_count(secret_bytes)),
    };
    Location {
        provenance: provenance.clone(),
        line,
        column,
        end_line,
        end_column,
        offset: m.start,
        snippet: snippet(data, line_start, m.start, m.end),
        fingerprint: fingerprint(&[rule_id, secret, relative_path]),
        relative_path: relative_path.to_string(),
        match_before: keep_tail(
            &String::from_utf8_lossy(&data[m.match_start..m.start]),
            MATCH_CONTEXT,
        ),
        match_after: keep_head(
            &String::from_utf8_lossy(&data[m.end..m.match_end]),
            MATCH_CONTEXT,
        ),
        commit_allowlists: Vec::new(),
    }
}

fn char_count(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).chars().count()
}

fn snippet(data: &[u8], line_start: usize, start: usize, end: usize) -> Snippet {
    let line_end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
    let secret_end = end.min(line_end);
    let before = String::from_utf8_lossy(&data[line_start..start]);
    let after = String::from_utf8_lossy(&data[secret_end..line_end]);
    Snippet {
        before: keep_tail(before.trim_start(), SNIPPET_CONTEXT),
        secret: String::from_utf8_lossy(&data[start..secret_end]).into_owned(),
        after: keep_head(after.trim_end_matches('\r'), SNIPPET_CONTEXT),
    }
}

fn keep_tail(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let tail: String = text.chars().skip(count - max).collect();
    format!("…{tail}")
}

fn keep_head(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_separated() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["x"]).len(), 32);
    }

    #[test]
    fn line_cursor_counts_lines() {
        let data = b"a\nbb\nccc\n";
        let mut cursor = LineCursor::default();
        assert_eq!(cursor.advance_to(data, 0), (1, 0));
        assert_eq!(cursor.advance_to(data, 3), (2, 2));
        assert_eq!(cursor.advance_to(data, 6), (3, 5));
        // Going backwards restarts rather than miscounting.
        assert_eq!(cursor.advance_to(data, 2), (2, 2));
    }

    #[test]
    fn snippet_cuts_long_lines() {
        let mut line = "x".repeat(300);
        line.push_str("SECRET");
        line.push_str(&"y".repeat(300));
        let data = line.as_bytes();
        let s = snippet(data, 0, 300, 306);
        assert_eq!(s.secret, "SECRET");
        assert_eq!(s.before.chars().count(), SNIPPET_CONTEXT + 1);
        assert!(s.before.starts_with('…'));
        assert!(s.after.ends_with('…'));
    }
}
