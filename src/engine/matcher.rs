//! Runs one rule's regex inside the windows the prefilter opened.

use std::sync::Arc;

use super::{prefilter::Window, CompiledPattern};

/// A regex match before the entropy, checksum and false-positive checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Byte range of the secret capture group.
    pub start: usize,
    pub end: usize,
    /// Byte range of the whole regex match (allowlists can target it).
    pub match_start: usize,
    pub match_end: usize,
    /// The pattern's other named groups that matched: (name, start, end).
    pub parts: Vec<(Arc<str>, usize, usize)>,
}

/// Which part of a regex match is the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretGroup {
    /// This capture group; a match where it did not participate yields nothing.
    Index(usize),
    /// The first capture group that matched something, else the whole match: gitleaks'
    /// rule when a rule sets no `secretGroup` (v8 `detect.go`, "first suitable capture group").
    FirstNonEmpty,
}

/// Every match of `regex` that starts inside one of `windows`. The haystack is cut at the window
/// end, but searched from the window start with the bytes before it as context, so `\b` and `^`
/// see the real neighbours of the window.
pub(super) fn find_in_windows(
    pattern: &CompiledPattern,
    data: &[u8],
    windows: &[Window],
) -> Vec<Candidate> {
    let (regex, group) = (&pattern.regex, pattern.group);
    let mut found = Vec::new();
    for window in windows {
        let haystack = &data[..window.end];
        let mut at = window.start;
        while at < window.end {
            let Some(captures) = regex.captures_at(haystack, at) else {
                break;
            };
            let whole = captures.get(0).expect("group 0 always participates");
            let secret = match group {
                SecretGroup::Index(index) => captures.get(index),
                SecretGroup::FirstNonEmpty => captures
                    .iter()
                    .skip(1)
                    .flatten()
                    .find(|group| !group.is_empty())
                    .or(Some(whole)),
            };
            if let Some(secret) = secret {
                found.push(Candidate {
                    start: secret.start(),
                    end: secret.end(),
                    match_start: whole.start(),
                    match_end: whole.end(),
                    parts: pattern
                        .parts
                        .iter()
                        .filter_map(|(index, name)| {
                            let part = captures.get(*index)?;
                            Some((name.clone(), part.start(), part.end()))
                        })
                        .collect(),
                });
            }
            at = if whole.end() > whole.start() {
                whole.end()
            } else {
                whole.start() + 1
            };
        }
    }
    found
}
