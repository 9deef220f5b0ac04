//! Suppression: findings the user has said are known.
//!
//! Four mechanisms, checked in two places:
//! - while matches are folded into findings (the blob's bytes are at hand): inline ignores
//!   ([`pragma`]) and allowlists ([`allowlist`]: values, regexes, stopwords, paths);
//! - after the scan, once git provenance is filled in: allowlisted commits, ignore files
//!   ([`ignore`]: `.leakhoundignore`, `.gitleaksignore`) and the baseline ([`baseline`]).
//!
//! Paths are compared relative to the scanned root, so a baseline written by `leakhound scan .`
//! still applies to `leakhound scan /abs/path/to/repo` and to the history of the same repo.

pub mod allowlist;
pub mod baseline;
pub mod ignore;
pub mod pragma;

use std::{
    borrow::Cow,
    path::{Component, Path, PathBuf},
};

use crate::{engine::Match, finding::Finding, source::Provenance};

pub use allowlist::{Allowlist, Condition, MatchContext, PathMatcher, RegexTarget, Verdict};
pub use baseline::Baseline;
pub use ignore::IgnoreList;
pub use pragma::Pragmas;

/// Why a finding location was not reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    InlineIgnore,
    Allowlist,
    IgnoreFile,
    Baseline,
}

/// How many finding locations each mechanism suppressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Suppressed {
    pub inline_ignore: u64,
    pub allowlist: u64,
    pub ignore_file: u64,
    pub baseline: u64,
}

impl Suppressed {
    pub fn total(&self) -> u64 {
        self.inline_ignore + self.allowlist + self.ignore_file + self.baseline
    }

    pub fn count(&mut self, reason: Reason) {
        match reason {
            Reason::InlineIgnore => self.inline_ignore += 1,
            Reason::Allowlist => self.allowlist += 1,
            Reason::IgnoreFile => self.ignore_file += 1,
            Reason::Baseline => self.baseline += 1,
        }
    }

    /// `2 inline, 5 baseline`: the non-zero counts, for the summary line.
    pub fn describe(&self) -> String {
        [
            (self.inline_ignore, "inline"),
            (self.allowlist, "allowlist"),
            (self.ignore_file, "ignore file"),
            (self.baseline, "baseline"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// What to do with one match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchDecision {
    Suppress(Reason),
    /// Report it, unless the commit that introduced it turns out to be allowlisted by one of
    /// these allowlists (indices into [`Suppressor::allowlists`]).
    Report {
        commit_allowlists: Vec<usize>,
    },
}

/// Everything that can suppress a finding, for one run.
#[derive(Debug, Default)]
pub struct Suppressor {
    pub pragmas: Pragmas,
    pub allowlists: Vec<Allowlist>,
    pub ignores: IgnoreList,
    pub baseline: Option<Baseline>,
    /// Absolute, lexically normal root that file paths are made relative to; `None` when paths
    /// are already relative to it (git history, staged changes).
    root: Option<PathBuf>,
    cwd: PathBuf,
}

impl Suppressor {
    /// Compares file paths relative to `root` (a directory; relative to the current one).
    pub fn set_root(&mut self, root: &Path) {
        self.cwd = std::env::current_dir().unwrap_or_default();
        let absolute = self.cwd.join(root);
        self.root = Some(std::fs::canonicalize(&absolute).unwrap_or_else(|_| normal(&absolute)));
        if let Ok(cwd) = std::fs::canonicalize(&self.cwd) {
            self.cwd = cwd;
        }
    }

    /// The path used for allowlists, baselines and fingerprints: relative to the scanned root
    /// for files (and archive members in them), the in-repository path for git blobs.
    pub fn relative_path<'a>(&self, provenance: &'a Provenance) -> Cow<'a, str> {
        let path = provenance.path();
        let (Some(root), Provenance::File { .. }) = (&self.root, provenance.root()) else {
            return Cow::Borrowed(path);
        };
        // Archive members: only the outer file's part is a filesystem path.
        let (outer, member) = match path.split_once('!') {
            Some((outer, member)) => (outer, Some(member)),
            None => (path, None),
        };
        let absolute = normal(&self.cwd.join(outer));
        match absolute.strip_prefix(root) {
            Ok(relative) => {
                let mut text = relative.to_string_lossy().replace('\\', "/");
                if let Some(member) = member {
                    text.push('!');
                    text.push_str(member);
                }
                Cow::Owned(text)
            }
            Err(_) => Cow::Borrowed(path),
        }
    }

    /// Checks a match while its blob is at hand: inline ignores, then allowlists. `path` is
    /// the blob's [`Suppressor::relative_path`].
    pub fn check_match(
        &self,
        rule_id: &str,
        provenance: &Provenance,
        path: &str,
        data: &[u8],
        m: &Match,
    ) -> MatchDecision {
        if self.pragmas.allows(data, m.start, m.end) {
            return MatchDecision::Suppress(Reason::InlineIgnore);
        }
        if self.allowlists.is_empty() {
            return MatchDecision::Report {
                commit_allowlists: Vec::new(),
            };
        }
        let context = MatchContext {
            rule_id,
            secret: &data[m.start..m.end],
            matched: &data[m.match_start..m.match_end],
            lines: lines_around(data, m.match_start, m.match_end),
            path,
        };
        let mut commit_allowlists = Vec::new();
        for (index, allowlist) in self.allowlists.iter().enumerate() {
            match allowlist.check(&context) {
                Verdict::Allowed => return MatchDecision::Suppress(Reason::Allowlist),
                Verdict::IfCommit if provenance.git().is_some() => commit_allowlists.push(index),
                Verdict::IfCommit | Verdict::NotAllowed => {}
            }
        }
        MatchDecision::Report { commit_allowlists }
    }

    /// After the scan, with provenance complete: allowlisted commits, ignore files and the
    /// baseline. Drops findings left without locations and links to them.
    pub fn after_scan(&self, findings: &mut Vec<Finding>, suppressed: &mut Suppressed) {
        let nothing_to_do = self.ignores.is_empty()
            && self.baseline.is_none()
            && findings
                .iter()
                .all(|f| f.locations.iter().all(|l| l.commit_allowlists.is_empty()));
        if nothing_to_do {
            return;
        }
        for finding in findings.iter_mut() {
            let secret_hash = self
                .baseline
                .as_ref()
                .map(|baseline| baseline.secret_hash(&finding.rule_id, &finding.secret));
            let (rule_id, finding_id) = (finding.rule_id.clone(), finding.id.clone());
            finding.locations.retain(|location| {
                let commit = location
                    .provenance
                    .git()
                    .and_then(|git| git.commit.as_ref())
                    .map(|commit| commit.id.as_str());
                let path = &location.relative_path;
                let reason = if commit.is_some_and(|commit| {
                    location
                        .commit_allowlists
                        .iter()
                        .any(|&i| self.allowlists[i].allows_commit(commit))
                }) {
                    Some(Reason::Allowlist)
                } else if self.ignores.ids.contains(&location.fingerprint)
                    || self.ignores.ids.contains(&finding_id)
                    || self
                        .ignores
                        .gitleaks_matches(path, &rule_id, location.line, commit)
                {
                    Some(Reason::IgnoreFile)
                } else if let (Some(baseline), Some(hash)) = (&self.baseline, &secret_hash) {
                    baseline
                        .contains(&rule_id, path, hash)
                        .then_some(Reason::Baseline)
                } else {
                    None
                };
                if let Some(reason) = reason {
                    suppressed.count(reason);
                }
                reason.is_none()
            });
        }
        findings.retain(|finding| !finding.locations.is_empty());
        let kept: std::collections::HashSet<String> =
            findings.iter().map(|finding| finding.id.clone()).collect();
        for finding in findings.iter_mut() {
            finding
                .related
                .retain(|related| kept.contains(&related.finding_id));
        }
    }

    /// A new baseline holding every location of `findings`.
    pub fn baseline_of(&self, findings: &[Finding]) -> Result<Baseline, String> {
        let mut baseline = Baseline::new()?;
        for finding in findings {
            for location in &finding.locations {
                baseline.record(
                    &finding.rule_id,
                    &location.relative_path,
                    &finding.secret,
                    location.line,
                );
            }
        }
        Ok(baseline)
    }
}

/// The lines a match touches, without their line breaks.
fn lines_around(data: &[u8], start: usize, end: usize) -> &[u8] {
    let first = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
    let last = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
    &data[first..last]
}

/// Removes `.` and resolves `..` without touching the filesystem.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_become_root_relative() {
        let dir = tempfile::tempdir().unwrap();
        let mut suppressor = Suppressor::default();
        suppressor.set_root(dir.path());
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let file = |p: String| Provenance::File { path: p };
        let absolute = file(format!("{}/src/a.py", root.display()));
        assert_eq!(suppressor.relative_path(&absolute), "src/a.py");
        let member = file(format!("{}/dist/app.zip!conf/.env", root.display()));
        assert_eq!(suppressor.relative_path(&member), "dist/app.zip!conf/.env");
        let elsewhere = file("/elsewhere/b.py".into());
        assert_eq!(suppressor.relative_path(&elsewhere), "/elsewhere/b.py");
    }

    #[test]
    fn describe_lists_non_zero_counts() {
        let mut suppressed = Suppressed::default();
        suppressed.count(Reason::InlineIgnore);
        suppressed.count(Reason::Baseline);
        suppressed.count(Reason::Baseline);
        assert_eq!(suppressed.describe(), "1 inline, 2 baseline");
        assert_eq!(suppressed.total(), 3);
    }
}
