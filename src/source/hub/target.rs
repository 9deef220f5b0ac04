//! What the user asked to scan: a repo (`owner/name`, `datasets/owner/name`, a Hub URL) or an
//! account (`owner`), parsed and validated before any request is sent.

use std::fmt;

use super::provenance::{RepoRef, RepoType};

/// One thing to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One repo, at the revision a URL named (`/tree/<rev>`), if any.
    Repo {
        repo: RepoRef,
        revision: Option<String>,
    },
    /// Every repo of these types owned by a user or an organisation.
    Account { owner: String, types: Vec<RepoType> },
}

/// Why a target could not be understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetError {
    pub target: String,
    pub reason: String,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid target `{}`: {}", self.target, self.reason)
    }
}

impl std::error::Error for TargetError {}

/// Parses one target. `types` is `--type`: the type of a bare `owner/name` (one repo per
/// type; model if empty) and the types an account sweep covers (all if empty).
pub fn parse_target(text: &str, types: &[RepoType]) -> Result<Vec<Target>, TargetError> {
    let fail = |reason: &str| TargetError {
        target: text.to_string(),
        reason: reason.to_string(),
    };
    let segments = segments_of(text).map_err(|reason| fail(&reason))?;
    let (prefix_type, rest) = match segments.first().map(String::as_str) {
        Some("models") => (Some(RepoType::Model), &segments[1..]),
        Some("datasets") => (Some(RepoType::Dataset), &segments[1..]),
        Some("spaces") => (Some(RepoType::Space), &segments[1..]),
        _ => (None, &segments[..]),
    };
    for part in rest.iter().take(2) {
        if !is_valid_name(part) {
            return Err(fail(&format!(
                "`{part}` is not a valid owner or repo name (letters, digits, `-`, `_`, `.`)"
            )));
        }
    }
    match (rest, prefix_type) {
        ([], _) => Err(fail("expected owner/name or an account name")),
        ([owner], None) => Ok(vec![Target::Account {
            owner: owner.clone(),
            types: if types.is_empty() {
                RepoType::ALL.to_vec()
            } else {
                types.to_vec()
            },
        }]),
        ([owner], Some(kind)) => Ok(vec![Target::Account {
            owner: owner.clone(),
            types: vec![kind],
        }]),
        ([owner, name, tail @ ..], _) => {
            let revision = revision_from_tail(tail);
            let id = format!("{owner}/{name}");
            let kinds = match (prefix_type, types) {
                (Some(kind), _) => vec![kind],
                (None, []) => vec![RepoType::Model],
                (None, types) => types.to_vec(),
            };
            Ok(kinds
                .into_iter()
                .map(|kind| Target::Repo {
                    repo: RepoRef::new(kind, id.clone()),
                    revision: revision.clone(),
                })
                .collect())
        }
    }
}

/// Path segments of a Hub URL (any host: requests always go to the configured endpoint) or
/// of a plain `a/b/c` target.
fn segments_of(text: &str) -> Result<Vec<String>, String> {
    let path = if text.starts_with("https://") || text.starts_with("http://") {
        let url = reqwest::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
        url.path_segments()
            .map(|s| s.map(percent_decode).collect::<Vec<_>>())
            .unwrap_or_default()
    } else if text.contains("://") {
        return Err("only http(s) Hub URLs are understood".into());
    } else {
        text.split('/').map(str::to_string).collect()
    };
    Ok(path.into_iter().filter(|s| !s.is_empty()).collect())
}

/// `tree/<rev>/…`, `blob/<rev>/…`, `resolve/<rev>/…` name a revision; anything else does not.
fn revision_from_tail(tail: &[String]) -> Option<String> {
    match tail {
        [kind, revision, ..] if ["tree", "blob", "resolve"].contains(&kind.as_str()) => {
            Some(revision.clone())
        }
        _ => None,
    }
}

/// Hub names: letters, digits, `-`, `_`, `.`, not `.` or `..` (which would escape a URL path).
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 96
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(kind: RepoType, id: &str, revision: Option<&str>) -> Target {
        Target::Repo {
            repo: RepoRef::new(kind, id),
            revision: revision.map(str::to_string),
        }
    }

    #[test]
    fn repo_ids_and_prefixes() {
        assert_eq!(
            parse_target("acme/m", &[]).unwrap(),
            [repo(RepoType::Model, "acme/m", None)]
        );
        assert_eq!(
            parse_target("datasets/acme/d", &[RepoType::Model]).unwrap(),
            [repo(RepoType::Dataset, "acme/d", None)]
        );
        assert_eq!(
            parse_target("acme/x", &[RepoType::Dataset, RepoType::Space]).unwrap(),
            [
                repo(RepoType::Dataset, "acme/x", None),
                repo(RepoType::Space, "acme/x", None)
            ]
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse_target("https://huggingface.co/spaces/acme/app", &[]).unwrap(),
            [repo(RepoType::Space, "acme/app", None)]
        );
        assert_eq!(
            parse_target(
                "https://hf.co/acme/m/tree/refs%2Fpr%2F3/sub",
                &[RepoType::Dataset]
            )
            .unwrap(),
            [repo(RepoType::Dataset, "acme/m", Some("refs/pr/3"))]
        );
        assert_eq!(
            parse_target("https://huggingface.co/acme/", &[]).unwrap(),
            [Target::Account {
                owner: "acme".into(),
                types: RepoType::ALL.to_vec()
            }]
        );
    }

    #[test]
    fn accounts() {
        assert_eq!(
            parse_target("acme", &[RepoType::Space]).unwrap(),
            [Target::Account {
                owner: "acme".into(),
                types: vec![RepoType::Space]
            }]
        );
        assert_eq!(
            parse_target("datasets/acme", &[]).unwrap(),
            [Target::Account {
                owner: "acme".into(),
                types: vec![RepoType::Dataset]
            }]
        );
    }

    #[test]
    fn rejects_bad_names() {
        assert!(parse_target("", &[]).is_err());
        assert!(parse_target("acme/..", &[]).is_err());
        assert!(parse_target("ac me/x", &[]).is_err());
        assert!(parse_target("ftp://x/y", &[]).is_err());
        assert!(parse_target("https://huggingface.co/acme/%2e%2e", &[]).is_err());
    }
}
