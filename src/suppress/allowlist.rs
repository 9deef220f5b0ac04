//! Allowlists: "these values, patterns, paths or commits are known; do not report them".
//!
//! One type serves `.leakhound.yaml` and imported gitleaks / Betterleaks configs, whose
//! `[[allowlists]]` tables it mirrors: criteria (exact secrets, regexes on the secret, the
//! whole match or the line, stopwords, paths, commits) combined with ANY (the default) or ALL,
//! optionally limited to some rules.

use std::collections::HashSet;

use globset::GlobSet;
use regex::bytes::Regex;

/// What an allowlist regex is matched against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RegexTarget {
    /// The secret (the rule's capture group).
    #[default]
    Secret,
    /// The rule's whole regex match.
    Match,
    /// Every line the match touches.
    Line,
}

/// How an allowlist's criteria combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Condition {
    /// Any one criterion that matches allows the finding.
    #[default]
    Any,
    /// Every criterion the allowlist sets must match.
    All,
}

/// Path criteria: globs (our config) and regexes (gitleaks), against the path relative to the
/// scanned root (a glob also matches a bare file name, as `--exclude` does).
#[derive(Clone, Debug, Default)]
pub struct PathMatcher {
    pub globs: Option<GlobSet>,
    pub regexes: Vec<Regex>,
}

impl PathMatcher {
    pub fn is_empty(&self) -> bool {
        self.globs.as_ref().is_none_or(GlobSet::is_empty) && self.regexes.is_empty()
    }

    pub fn matches(&self, path: &str) -> bool {
        let name = path.rsplit(['/', '!']).next().unwrap_or(path);
        self.globs
            .as_ref()
            .is_some_and(|globs| globs.is_match(path) || globs.is_match(name))
            || self.regexes.iter().any(|re| re.is_match(path.as_bytes()))
    }
}

/// One allowlist.
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    /// Where it was declared (`.leakhound.yaml:12`, `.gitleaks.toml rule aws`), for notes.
    pub origin: String,
    pub description: String,
    /// Rules it applies to; empty: every rule.
    pub rule_ids: Vec<String>,
    pub condition: Condition,
    /// Exact secret values.
    pub secrets: HashSet<String>,
    pub regexes: Vec<Regex>,
    pub regex_target: RegexTarget,
    /// Lower-cased words; a secret containing one (case-insensitively) is allowed.
    pub stopwords: Vec<String>,
    pub paths: PathMatcher,
    /// Commit ids or unique prefixes (at least 7 hex digits).
    pub commits: Vec<String>,
}

/// What is known about a match when allowlists are checked.
pub struct MatchContext<'a> {
    pub rule_id: &'a str,
    pub secret: &'a [u8],
    pub matched: &'a [u8],
    pub lines: &'a [u8],
    /// Path relative to the scanned root.
    pub path: &'a str,
}

/// An allowlist's answer for one match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    NotAllowed,
    /// Allowed if the commit that introduced the blob is one of the allowlist's commits: the
    /// commit is known only after the scan, when provenance is filled in.
    IfCommit,
}

impl Allowlist {
    /// Whether the allowlist sets no criterion at all (and so allows nothing).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
            && self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.paths.is_empty()
            && self.commits.is_empty()
    }

    pub fn applies_to(&self, rule_id: &str) -> bool {
        self.rule_ids.is_empty() || self.rule_ids.iter().any(|id| id == rule_id)
    }

    /// Checks every criterion but the commit, which [`Allowlist::allows_commit`] checks later.
    pub fn check(&self, context: &MatchContext) -> Verdict {
        if !self.applies_to(context.rule_id) || self.is_empty() {
            return Verdict::NotAllowed;
        }
        let mut results = Vec::with_capacity(4);
        if !self.secrets.is_empty() {
            let secret = String::from_utf8_lossy(context.secret);
            results.push(self.secrets.contains(secret.as_ref()));
        }
        if !self.regexes.is_empty() {
            let target = match self.regex_target {
                RegexTarget::Secret => context.secret,
                RegexTarget::Match => context.matched,
                RegexTarget::Line => context.lines,
            };
            results.push(self.regexes.iter().any(|re| re.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let secret = String::from_utf8_lossy(context.secret).to_lowercase();
            results.push(
                self.stopwords
                    .iter()
                    .any(|word| secret.contains(word.as_str())),
            );
        }
        if !self.paths.is_empty() {
            results.push(self.paths.matches(context.path));
        }
        let has_commits = !self.commits.is_empty();
        match self.condition {
            Condition::Any if results.iter().any(|&hit| hit) => Verdict::Allowed,
            Condition::Any if has_commits => Verdict::IfCommit,
            Condition::Any => Verdict::NotAllowed,
            Condition::All if results.iter().any(|&hit| !hit) => Verdict::NotAllowed,
            Condition::All if has_commits => Verdict::IfCommit,
            Condition::All => Verdict::Allowed,
        }
    }

    /// Whether `commit` (a full id) is one of the allowlist's commits.
    pub fn allows_commit(&self, commit: &str) -> bool {
        self.commits
            .iter()
            .any(|listed| commit.starts_with(listed.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::fs::build_excludes;

    fn context<'a>(secret: &'a str, lines: &'a str, path: &'a str) -> MatchContext<'a> {
        MatchContext {
            rule_id: "r",
            secret: secret.as_bytes(),
            matched: lines.as_bytes(),
            lines: lines.as_bytes(),
            path,
        }
    }

    #[test]
    fn any_criterion_allows() {
        let list = Allowlist {
            secrets: HashSet::from(["KNOWN".to_string()]),
            stopwords: vec!["example".into()],
            paths: PathMatcher {
                globs: Some(build_excludes(&["tests/**".into()]).unwrap()),
                regexes: vec![],
            },
            ..Allowlist::default()
        };
        assert_eq!(
            list.check(&context("KNOWN", "k=KNOWN", "src/a")),
            Verdict::Allowed
        );
        assert_eq!(
            list.check(&context("xEXAMPLEx", "", "src/a")),
            Verdict::Allowed
        );
        assert_eq!(
            list.check(&context("other", "", "tests/x/y.rs")),
            Verdict::Allowed
        );
        assert_eq!(
            list.check(&context("other", "", "src/a")),
            Verdict::NotAllowed
        );
    }

    #[test]
    fn all_criteria_must_match() {
        let list = Allowlist {
            condition: Condition::All,
            regexes: vec![Regex::new("^test_").unwrap()],
            paths: PathMatcher {
                globs: None,
                regexes: vec![Regex::new(r"^fixtures/").unwrap()],
            },
            ..Allowlist::default()
        };
        assert_eq!(
            list.check(&context("test_1", "", "fixtures/a")),
            Verdict::Allowed
        );
        assert_eq!(
            list.check(&context("test_1", "", "src/a")),
            Verdict::NotAllowed
        );
        assert_eq!(
            list.check(&context("live_1", "", "fixtures/a")),
            Verdict::NotAllowed
        );
    }

    #[test]
    fn regex_targets_and_rule_scope() {
        let mut list = Allowlist {
            rule_ids: vec!["r".into()],
            regexes: vec![Regex::new("DUMMY").unwrap()],
            regex_target: RegexTarget::Line,
            ..Allowlist::default()
        };
        assert_eq!(
            list.check(&context("s", "x = s # DUMMY", "a")),
            Verdict::Allowed
        );
        list.regex_target = RegexTarget::Secret;
        assert_eq!(
            list.check(&context("s", "x = s # DUMMY", "a")),
            Verdict::NotAllowed
        );
        list.rule_ids = vec!["other".into()];
        list.regex_target = RegexTarget::Line;
        assert_eq!(list.check(&context("s", "DUMMY", "a")), Verdict::NotAllowed);
    }

    #[test]
    fn commits_are_decided_later() {
        let list = Allowlist {
            commits: vec!["abc1234".into()],
            ..Allowlist::default()
        };
        assert_eq!(list.check(&context("s", "", "a")), Verdict::IfCommit);
        assert!(list.allows_commit("abc1234ffff"));
        assert!(!list.allows_commit("abd1234ffff"));
        assert_eq!(
            Allowlist::default().check(&context("s", "", "a")),
            Verdict::NotAllowed
        );
    }
}
