//! The scanning engine: bytes in, rule matches out.
//!
//! One Aho-Corasick pass over every rule keyword ([`prefilter`]) tells which rules can match a
//! blob and where; each candidate rule's regex then runs only in a window after each keyword hit
//! ([`matcher`]), so cost grows with keyword hits, not with the number of rules or the size of
//! the blob. A candidate secret must then pass the rule's entropy minimum, its checksum if the
//! format has one ([`checksum`]), and the false-positive filters ([`filters`]).
//!
//! The [`Scanner`] is immutable and shared by all threads. Regexes compile lazily, the first
//! time a rule's keyword hits, so a pre-commit scan of one small file compiles one or two
//! regexes, not hundreds.

pub mod checksum;
pub mod entropy;
pub mod filters;
mod matcher;
mod prefilter;

use std::sync::{Arc, OnceLock};

use regex::bytes::{Regex, RegexBuilder};

use crate::rules::{Rule, RuleSet};

use matcher::SecretGroup;

pub use filters::Filters;

/// One secret found by one rule in one blob.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// Index of the rule in [`Scanner::rules`].
    pub rule: usize,
    /// Byte range of the secret (the capture group) in the blob.
    pub start: usize,
    pub end: usize,
    /// Byte range of the rule's whole regex match, which contains the secret.
    pub match_start: usize,
    pub match_end: usize,
    /// The rule's other named groups that matched: (name, start, end).
    pub parts: Vec<(Arc<str>, usize, usize)>,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
}

/// Time one rule spent in its regex and filters, for profiling.
#[derive(Clone, Debug, Default)]
pub struct RuleCost {
    pub time: std::time::Duration,
    /// Windows the prefilter opened for it, and their total size.
    pub windows: u64,
    pub bytes: u64,
}

/// Compiles a rule pattern the way the engine runs it: over bytes, with a size limit that
/// keeps a pathological user rule from eating memory.
pub fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(32 * 1024 * 1024)
        .dfa_size_limit(16 * 1024 * 1024)
        .build()
}

/// A rule plus its lazily compiled regex.
struct CompiledRule {
    rule: Rule,
    regex: OnceLock<Option<CompiledPattern>>,
}

/// A compiled pattern and where in it the secret and the named parts are.
struct CompiledPattern {
    regex: Regex,
    /// Which capture group holds the secret.
    group: SecretGroup,
    /// Other named groups (`(?P<account>…)`): parts of a credential a validator needs, such
    /// as the storage account a key belongs to.
    parts: Vec<(usize, Arc<str>)>,
}

impl CompiledRule {
    /// The compiled pattern, or `None` when it does not compile (user rules are compiled when
    /// loaded, so this is a bug report).
    fn regex(&self) -> Option<&CompiledPattern> {
        self.regex
            .get_or_init(|| match compile_pattern(&self.rule.pattern) {
                Ok(regex) => {
                    let group = match self.rule.secret_group {
                        Some(0) => SecretGroup::FirstNonEmpty,
                        Some(n) => SecretGroup::Index(n),
                        None => SecretGroup::Index(
                            regex
                                .capture_names()
                                .position(|name| name == Some("secret"))
                                .unwrap_or(1),
                        ),
                    };
                    let parts = match group {
                        SecretGroup::Index(secret) => regex
                            .capture_names()
                            .enumerate()
                            .filter_map(|(i, name)| Some((i, Arc::from(name?))))
                            .filter(|(i, _)| *i != secret)
                            .collect(),
                        // Any group may be the secret: no parts.
                        SecretGroup::FirstNonEmpty => Vec::new(),
                    };
                    Some(CompiledPattern {
                        regex,
                        group,
                        parts,
                    })
                }
                Err(err) => {
                    eprintln!(
                        "leakhound: rule `{}` ({}) does not compile and is skipped: {err}",
                        self.rule.id, self.rule.origin
                    );
                    None
                }
            })
            .as_ref()
    }
}

/// Builds a [`Scanner`].
#[derive(Default)]
pub struct ScannerBuilder {
    filters: Filters,
    small_input: bool,
}

impl ScannerBuilder {
    pub fn new() -> Self {
        ScannerBuilder::default()
    }

    /// Replaces the false-positive filters (stopwords, placeholder detection).
    pub fn filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
    }

    /// Optimise for start-up over throughput: for scans of a few KiB, such as staged changes.
    pub fn small_input(mut self, small: bool) -> Self {
        self.small_input = small;
        self
    }

    pub fn build(self, rules: &RuleSet) -> Scanner {
        let prefilter = prefilter::Prefilter::new(rules.rules(), self.small_input);
        let rules = rules
            .rules()
            .iter()
            .map(|rule| CompiledRule {
                rule: rule.clone(),
                regex: OnceLock::new(),
            })
            .collect();
        Scanner {
            rules,
            prefilter,
            filters: self.filters,
        }
    }
}

/// The immutable, thread-shared engine.
pub struct Scanner {
    rules: Vec<CompiledRule>,
    prefilter: prefilter::Prefilter,
    filters: Filters,
}

impl Scanner {
    pub fn new(rules: &RuleSet) -> Scanner {
        ScannerBuilder::new().build(rules)
    }

    /// The rule a [`Match`] refers to.
    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules[index].rule
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Compiles every rule's regex now, returning the rules that fail. `rules check` uses it;
    /// scans compile lazily instead.
    pub fn compile_all(&self) -> Vec<(&Rule, String)> {
        self.rules
            .iter()
            .filter_map(|compiled| match compile_pattern(&compiled.rule.pattern) {
                Ok(_) => None,
                Err(err) => Some((&compiled.rule, err.to_string())),
            })
            .collect()
    }

    /// Finds every secret in `data`, sorted by position.
    pub fn scan(&self, data: &[u8]) -> Vec<Match> {
        self.scan_inner(data, None)
    }

    /// Like [`Scanner::scan`], and adds each rule's regex and filter time to `profile`
    /// (indexed like the rules): what `cargo bench` reports as per-rule cost.
    pub fn scan_profiled(&self, data: &[u8], profile: &mut [RuleCost]) -> Vec<Match> {
        self.scan_inner(data, Some(profile))
    }

    fn scan_inner(&self, data: &[u8], mut profile: Option<&mut [RuleCost]>) -> Vec<Match> {
        let windows = self
            .prefilter
            .candidate_windows(data, |rule| self.rules[rule].rule.window);
        let mut matches = Vec::new();
        for (rule_index, rule_windows) in windows {
            let compiled = &self.rules[rule_index];
            let Some(pattern) = compiled.regex() else {
                continue;
            };
            let started = profile.is_some().then(std::time::Instant::now);
            for candidate in matcher::find_in_windows(pattern, data, &rule_windows) {
                if let Some(m) = self.accept(rule_index, data, candidate) {
                    matches.push(m);
                }
            }
            if let (Some(profile), Some(started)) = (profile.as_deref_mut(), started) {
                let cost = &mut profile[rule_index];
                cost.time += started.elapsed();
                cost.windows += rule_windows.len() as u64;
                cost.bytes += rule_windows
                    .iter()
                    .map(|w| (w.end - w.start) as u64)
                    .sum::<u64>();
            }
        }
        matches.sort_by_key(|m| (m.start, m.rule));
        self.drop_shadowed(&mut matches);
        matches
    }

    /// Where matches of different confidence overlap, only the more confident stays: a Stripe
    /// key is reported by the Stripe rule, not again by the generic assignment rule.
    fn drop_shadowed(&self, matches: &mut Vec<Match>) {
        let confidence = |m: &Match| self.rules[m.rule].rule.confidence;
        let mut shadowed = vec![false; matches.len()];
        // Sorted by start, so the matches overlapping `a` are the ones after it that start
        // before it ends: a sweep, not all pairs.
        for (i, a) in matches.iter().enumerate() {
            for (j, b) in matches.iter().enumerate().skip(i + 1) {
                if b.start >= a.end {
                    break;
                }
                match confidence(a).cmp(&confidence(b)) {
                    std::cmp::Ordering::Less => shadowed[i] = true,
                    std::cmp::Ordering::Greater => shadowed[j] = true,
                    std::cmp::Ordering::Equal => {}
                }
            }
        }
        let mut flags = shadowed.into_iter();
        matches.retain(|_| !flags.next().unwrap_or(false));
    }

    /// Applies entropy, checksum and false-positive filters to a regex candidate.
    fn accept(
        &self,
        rule_index: usize,
        data: &[u8],
        candidate: matcher::Candidate,
    ) -> Option<Match> {
        let rule = &self.rules[rule_index].rule;
        let secret = &data[candidate.start..candidate.end];
        if secret.is_empty() {
            return None;
        }
        let entropy = entropy::shannon(secret);
        if rule.min_entropy.is_some_and(|min| entropy < min) {
            return None;
        }
        if rule
            .min_char_classes
            .is_some_and(|min| char_classes(secret) < min)
        {
            return None;
        }
        if let Some(kind) = rule.checksum {
            if !checksum::verify(kind, secret) {
                return None;
            }
        }
        let line = line_around(data, candidate.start, candidate.end);
        if self.filters.is_false_positive(secret, line) {
            return None;
        }
        Some(Match {
            rule: rule_index,
            start: candidate.start,
            end: candidate.end,
            match_start: candidate.match_start,
            match_end: candidate.match_end,
            parts: candidate.parts,
            entropy,
        })
    }
}

/// How many of lowercase, uppercase and digit occur in `secret`.
fn char_classes(secret: &[u8]) -> u8 {
    let lower = secret.iter().any(u8::is_ascii_lowercase);
    let upper = secret.iter().any(u8::is_ascii_uppercase);
    let digit = secret.iter().any(u8::is_ascii_digit);
    lower as u8 + upper as u8 + digit as u8
}

/// The line (or up to 256 bytes either side) around a byte range, for context filters.
fn line_around(data: &[u8], start: usize, end: usize) -> &[u8] {
    let from = start.saturating_sub(256);
    let line_start = memchr::memrchr(b'\n', &data[from..start]).map_or(from, |i| from + i + 1);
    let to = (end + 256).min(data.len());
    let line_end = memchr::memchr(b'\n', &data[end..to]).map_or(to, |i| end + i);
    &data[line_start..line_end]
}

#[cfg(test)]
mod tests {
    use super::*;
    fn scanner(yaml: &str) -> Scanner {
        Scanner::new(&RuleSet::parse("test.yaml", yaml).unwrap())
    }

    const DEMO: &str = r#"
rules:
  - id: demo-token
    name: Demo token
    provider: demo
    keywords: [demo_]
    pattern: '\b(demo_[A-Za-z0-9]{20})\b'
    min_entropy: 3.0
    confidence: high
"#;

    #[test]
    fn finds_token_and_reports_secret_range() {
        let s = scanner(DEMO);
        let data = b"x = 1\nkey = \"demo_Qw8rT2zLp4Xv9NbK3mYd\"\n";
        let found = s.scan(data);
        assert_eq!(found.len(), 1);
        assert_eq!(
            &data[found[0].start..found[0].end],
            b"demo_Qw8rT2zLp4Xv9NbK3mYd"
        );
    }

    #[test]
    fn keyword_is_case_insensitive_but_pattern_decides() {
        let s = scanner(DEMO);
        assert!(s.scan(b"DEMO_Qw8rT2zLp4Xv9NbK3mYd").is_empty());
        assert_eq!(s.scan(b"Demo_ demo_Qw8rT2zLp4Xv9NbK3mYd").len(), 1);
    }

    #[test]
    fn low_entropy_is_dropped() {
        let s = scanner(DEMO);
        assert!(s.scan(b"demo_abababababababababab").is_empty());
    }

    #[test]
    fn placeholder_is_dropped() {
        let s = scanner(DEMO);
        assert!(s.scan(b"demo_EXAMPLEq8rT2zLp4Xv9N").is_empty());
    }

    #[test]
    fn no_keyword_no_regex() {
        let s = scanner(DEMO);
        assert!(s.scan(b"nothing to see here").is_empty());
        // The regex was never needed, so it was never compiled.
        assert!(s.rules[0].regex.get().is_none());
    }

    #[test]
    fn many_hits_in_one_window_are_all_found() {
        let s = scanner(DEMO);
        let data = b"demo_Qw8rT2zLp4Xv9NbK3mYd demo_Zx7cV6bN5mA4sD3fG2hJ demo_Pl0oK9iJ8uH7yG6tF5rD";
        assert_eq!(s.scan(data).len(), 3);
    }

    #[test]
    fn specific_rule_shadows_generic_one() {
        let yaml = format!(
            "{DEMO}{}",
            r#"
  - id: demo-generic
    name: Generic
    provider: generic
    keywords: [key]
    pattern: 'key\s*=\s*"([^"]+)"'
    confidence: low
"#
        );
        let s = scanner(&yaml);
        let found = s.scan(b"key = \"demo_Qw8rT2zLp4Xv9NbK3mYd\"\nkey = \"other\"");
        let ids: Vec<&str> = found.iter().map(|m| s.rule(m.rule).id.as_str()).collect();
        assert_eq!(ids, ["demo-token", "demo-generic"]);
    }

    #[test]
    fn rule_without_keywords_runs_on_every_blob() {
        let s = scanner(
            r#"
rules:
  - id: bare
    name: Bare
    provider: demo
    keywords: []
    pattern: 'ZQ-[0-9]{6}'
    secret_group: 0
    confidence: medium
"#,
        );
        let found = s.scan(b"first line\nvalue ZQ-719384 here\n");
        assert_eq!(found.len(), 1);
        // No capture group and `secret_group: 0`: the whole match is the secret.
        assert_eq!((found[0].start, found[0].end), (17, 26));
        assert!(s.scan(b"").is_empty());
    }

    #[test]
    fn first_non_empty_group_and_whole_blob() {
        let s = scanner(
            r#"
rules:
  - id: either
    name: Either
    provider: demo
    keywords: [marker]
    pattern: 'a=([0-9]{4,})|b=([a-z]{4,})'
    secret_group: 0
    whole_blob: true
    confidence: medium
"#,
        );
        // The keyword sits far from the match, on another line: a whole-blob rule still runs.
        let data = b"marker\n\n\nb=wxyz\n";
        let found = s.scan(data);
        assert_eq!(found.len(), 1);
        assert_eq!(&data[found[0].start..found[0].end], b"wxyz");
    }

    #[test]
    fn match_far_from_line_start_in_long_line() {
        let s = scanner(DEMO);
        let mut data = vec![b'a'; 100_000];
        data.push(b' ');
        data.extend_from_slice(b"demo_Qw8rT2zLp4Xv9NbK3mYd");
        data.extend(std::iter::repeat_n(b' ', 1000));
        let found = s.scan(&data);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].start, 100_001);
    }
}
