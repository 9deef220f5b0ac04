//! Remote repositories: `leakhound scan https://host/org/repo.git` clones into a temporary
//! directory (bare: no checkout, history only) with the git CLI, which brings the user's own
//! credential helpers and SSH setup, and removes the clone when the scan ends.

use std::{
    io,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// Whether an input names a remote repository rather than a local path.
pub fn is_remote_url(input: &str) -> bool {
    ["https://", "http://", "ssh://", "git://", "file://"]
        .iter()
        .any(|scheme| input.starts_with(scheme))
        || (input.starts_with("git@") && input.contains(':'))
}

/// A bare clone that is deleted when dropped.
pub struct TempClone {
    dir: tempfile::TempDir,
}

impl TempClone {
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("repo.git")
    }
}

/// Clones `url` bare into a fresh temporary directory. Git LFS content is not fetched.
pub fn clone_bare(url: &str) -> io::Result<TempClone> {
    let dir = tempfile::Builder::new()
        .prefix("leakhound-clone-")
        .tempdir()?;
    let target = dir.path().join("repo.git");
    let output = Command::new("git")
        .args(["clone", "--bare", "--quiet", "--", url])
        .arg(&target)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_LFS_SKIP_SMUDGE", "1")
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(io::Error::other(format!(
            "git clone failed: {}",
            redact_credentials(stderr.trim())
        )));
    }
    Ok(TempClone { dir })
}

/// Hides `user:password@` in URLs that git echoes back in its errors.
fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(char::is_whitespace) {
        match (word.find("://"), word.find('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                out.push_str(&word[..scheme + 3]);
                out.push_str("***");
                out.push_str(&word[at..]);
            }
            _ => out.push_str(word),
        }
    }
    out
}

/// Whether `path` exists on disk (a local path wins over URL-looking names).
pub fn exists_locally(path: &str) -> bool {
    Path::new(path).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_urls() {
        assert!(is_remote_url("https://github.com/o/r.git"));
        assert!(is_remote_url("git@github.com:o/r.git"));
        assert!(is_remote_url("file:///tmp/r.git"));
        assert!(!is_remote_url("src/main.rs"));
        assert!(!is_remote_url("git@notes.txt"));
    }

    #[test]
    fn redacts() {
        assert_eq!(
            redact_credentials("fatal: https://u:tok@h/r not found"),
            "fatal: https://***@h/r not found"
        );
    }
}
