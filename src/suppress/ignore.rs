//! Ignore files: `.leakhoundignore` lists fingerprints or finding ids, one per line;
//! `.gitleaksignore` lists gitleaks fingerprints (`[commit:]path:rule:line`), honoured where
//! they map onto a leakhound finding (same path, line and rule id, and commit if given).

use std::{collections::HashSet, fs, path::Path};

/// A gitleaks fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitleaksIgnore {
    pub commit: Option<String>,
    pub path: String,
    pub rule_id: String,
    pub line: usize,
}

/// Everything the ignore files list.
#[derive(Clone, Debug, Default)]
pub struct IgnoreList {
    /// Location fingerprints and finding ids (both 32 hex digits).
    pub ids: HashSet<String>,
    pub gitleaks: Vec<GitleaksIgnore>,
}

impl IgnoreList {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.gitleaks.is_empty()
    }

    /// Reads a `.leakhoundignore`: one id per line; `#` starts a comment; blank lines skipped.
    /// A line that is not 32 hex digits is an error naming the file and line.
    pub fn add_leakhound_file(&mut self, path: &Path) -> Result<(), String> {
        let text = read(path)?;
        for (number, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            if entry.len() != 32 || !entry.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "{}:{}: `{entry}` is not a fingerprint (32 hex digits from a report's \
                     `fingerprint` or `id`)",
                    path.display(),
                    number + 1
                ));
            }
            self.ids.insert(entry.to_ascii_lowercase());
        }
        Ok(())
    }

    /// Reads a `.gitleaksignore`. Lines that are not gitleaks fingerprints are skipped with a
    /// returned warning each, since gitleaks itself ignores them.
    pub fn add_gitleaks_file(&mut self, path: &Path) -> Result<Vec<String>, String> {
        let text = read(path)?;
        let mut warnings = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let entry = line.trim();
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            match parse_gitleaks_fingerprint(entry) {
                Some(ignore) => self.gitleaks.push(ignore),
                None => warnings.push(format!(
                    "{}:{}: not a gitleaks fingerprint ([commit:]path:rule:line); skipped",
                    path.display(),
                    number + 1
                )),
            }
        }
        Ok(warnings)
    }

    /// Whether a gitleaks entry names this location.
    pub fn gitleaks_matches(
        &self,
        path: &str,
        rule_id: &str,
        line: usize,
        commit: Option<&str>,
    ) -> bool {
        self.gitleaks.iter().any(|entry| {
            entry.line == line
                && entry.rule_id == rule_id
                && entry.path == path
                && match (&entry.commit, commit) {
                    (None, _) => true,
                    (Some(listed), Some(actual)) => actual.starts_with(listed.as_str()),
                    (Some(_), None) => false,
                }
        })
    }
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `commit:path:rule:line` or `path:rule:line`; the path may itself hold colons.
fn parse_gitleaks_fingerprint(entry: &str) -> Option<GitleaksIgnore> {
    let (rest, line) = entry.rsplit_once(':')?;
    let line = line.parse().ok()?;
    let (rest, rule_id) = rest.rsplit_once(':')?;
    let (commit, path) = match rest.split_once(':') {
        Some((first, path)) if first.len() >= 7 && first.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (Some(first.to_ascii_lowercase()), path)
        }
        _ => (None, rest),
    };
    if path.is_empty() || rule_id.is_empty() {
        return None;
    }
    Some(GitleaksIgnore {
        commit,
        path: path.to_string(),
        rule_id: rule_id.to_string(),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitleaks_fingerprints() {
        let commit = "d0f3f5d2ab6dd8a8f3c8a0d2b8b93d91fd1b1b3c";
        assert_eq!(
            parse_gitleaks_fingerprint(&format!("{commit}:src/app.py:aws-access-token:12")),
            Some(GitleaksIgnore {
                commit: Some(commit.into()),
                path: "src/app.py".into(),
                rule_id: "aws-access-token".into(),
                line: 12
            })
        );
        let plain = parse_gitleaks_fingerprint("config/a:b.env:generic-api-key:3").unwrap();
        assert_eq!(
            (plain.commit, plain.path.as_str()),
            (None, "config/a:b.env")
        );
        assert_eq!(parse_gitleaks_fingerprint("just-text"), None);
        assert_eq!(parse_gitleaks_fingerprint("a:b:notanumber"), None);
    }

    #[test]
    fn leakhound_ignore_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".leakhoundignore");
        fs::write(
            &file,
            "# known test keys\n0123456789abcdef0123456789ABCDEF  # fixture\n\n",
        )
        .unwrap();
        let mut list = IgnoreList::default();
        list.add_leakhound_file(&file).unwrap();
        assert!(list.ids.contains("0123456789abcdef0123456789abcdef"));
        fs::write(&file, "ok\n").unwrap();
        let err = list.add_leakhound_file(&file).unwrap_err();
        assert!(err.contains(".leakhoundignore:1"), "{err}");
    }

    #[test]
    fn gitleaks_entries_match_with_and_without_commit() {
        let list = IgnoreList {
            ids: HashSet::new(),
            gitleaks: vec![
                parse_gitleaks_fingerprint("abc1234:a.py:r:3").unwrap(),
                parse_gitleaks_fingerprint("b.py:r:4").unwrap(),
            ],
        };
        assert!(list.gitleaks_matches("a.py", "r", 3, Some("abc1234ffff")));
        assert!(!list.gitleaks_matches("a.py", "r", 3, None));
        assert!(list.gitleaks_matches("b.py", "r", 4, None));
        assert!(!list.gitleaks_matches("b.py", "r", 5, None));
    }
}
