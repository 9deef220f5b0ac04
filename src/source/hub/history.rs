//! `--history`: the hook for scanning a repo's whole git history, deleted files included,
//! which the tree API (one revision) cannot show.
//!
//! The Hub serves each repo over git smart HTTP at `{endpoint}/{prefix}{id}` (user `hf_user`,
//! password the token). [`scan`] clones it with the git CLI, `--mirror` (bare, every ref, PR
//! refs included) and without LFS content, into a temporary directory, then hands the clone to
//! a [`HistoryScanner`]: the git source's history walk, wired in by the caller.
//!
//! The token never appears in a URL, an argument, a config file or a log: git gets it as an
//! `Authorization` header through `GIT_CONFIG_*` environment variables, scoped to the clone
//! URL, with redirects off so no other host receives it. [`CloneUrl`]'s `Display` masks it.

use std::{
    fmt, io,
    path::Path,
    process::{Command, Stdio},
};

use base64::Engine;

use super::{client::Token, provenance::RepoRef};
use crate::source::BlobSink;

/// The Hub's git user name; the password is the token.
pub const GIT_USER: &str = "hf_user";

/// Scans a bare clone's history, pushing blobs into the sink. Provided by the git source.
pub type HistoryScanner =
    fn(git_dir: &Path, repo: &RepoRef, sink: &dyn BlobSink) -> Result<(), String>;

/// A repo's clone URL and the token to send with it.
#[derive(Clone)]
pub struct CloneUrl {
    url: String,
    token: Option<Token>,
}

impl CloneUrl {
    /// `{endpoint}/{prefix}{id}`.
    pub fn new(endpoint: &str, repo: &RepoRef, token: Option<Token>) -> CloneUrl {
        CloneUrl {
            url: repo.web_url(endpoint),
            token,
        }
    }

    /// The URL without credentials: safe to print.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The URL with `hf_user:<token>@`, for a tool that takes credentials only in the URL.
    /// Never print or log it; prefer [`CloneUrl::git_env`], which keeps the token out of
    /// argument lists and of the clone's config.
    pub fn with_credentials(&self) -> Option<String> {
        let token = self.token.as_ref()?;
        let (scheme, rest) = self.url.split_once("://")?;
        Some(format!("{scheme}://{GIT_USER}:{}@{rest}", token.expose()))
    }

    /// Environment for `git`: the token as a Basic `Authorization` header for this URL only,
    /// and no redirects (a redirect to another host would carry the header).
    pub fn git_env(&self) -> Vec<(String, String)> {
        let mut config = vec![("http.followRedirects".to_string(), "false".to_string())];
        if let Some(token) = &self.token {
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{GIT_USER}:{}", token.expose()));
            config.push((
                format!("http.{}.extraHeader", self.url),
                format!("Authorization: Basic {basic}"),
            ));
        }
        let mut env = vec![("GIT_CONFIG_COUNT".to_string(), config.len().to_string())];
        for (i, (key, value)) in config.into_iter().enumerate() {
            env.push((format!("GIT_CONFIG_KEY_{i}"), key));
            env.push((format!("GIT_CONFIG_VALUE_{i}"), value));
        }
        env
    }
}

/// `https://hf_user:****@huggingface.co/acme/m` when a token is set.
impl fmt::Display for CloneUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.token, self.url.split_once("://")) {
            (Some(_), Some((scheme, rest))) => write!(f, "{scheme}://{GIT_USER}:****@{rest}"),
            _ => f.write_str(&self.url),
        }
    }
}

impl fmt::Debug for CloneUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloneUrl({self})")
    }
}

/// Why a history scan failed.
#[derive(Debug)]
pub enum HistoryError {
    Io(io::Error),
    /// `git clone` failed; `stderr` is git's message (it names the URL, never the token).
    Clone {
        url: String,
        stderr: String,
    },
    Scan(String),
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::Io(err) => write!(f, "history: {err}"),
            HistoryError::Clone { url, stderr } => write!(f, "git clone {url} failed: {stderr}"),
            HistoryError::Scan(message) => write!(f, "history scan: {message}"),
        }
    }
}

impl std::error::Error for HistoryError {}

/// Clones `url` bare into `dest`: every ref, no checkout, no LFS content.
pub fn clone_bare(url: &CloneUrl, dest: &Path) -> Result<(), HistoryError> {
    let output = Command::new("git")
        .args(["clone", "--mirror", "--quiet", url.as_str()])
        .arg(dest)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_LFS_SKIP_SMUDGE", "1")
        .envs(url.git_env())
        .stdin(Stdio::null())
        .output()
        .map_err(HistoryError::Io)?;
    if output.status.success() {
        return Ok(());
    }
    Err(HistoryError::Clone {
        url: url.as_str().to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
    })
}

/// Clones the repo into a temporary directory, runs `scanner` on it, removes the clone.
pub fn scan(
    endpoint: &str,
    repo: &RepoRef,
    token: Option<Token>,
    scanner: HistoryScanner,
    sink: &dyn BlobSink,
) -> Result<(), HistoryError> {
    let dir = tempfile::Builder::new()
        .prefix("leakhound-hf-")
        .tempdir()
        .map_err(HistoryError::Io)?;
    let git_dir = dir.path().join("repo.git");
    clone_bare(&CloneUrl::new(endpoint, repo, token), &git_dir)?;
    scanner(&git_dir, repo, sink).map_err(HistoryError::Scan)
}

/// The [`HistoryScanner`] that `leakhound hf --history` uses: the git source's history walk,
/// with the repo shown as `hf://<prefix><id>` in reports.
pub fn scan_with_git(git_dir: &Path, repo: &RepoRef, sink: &dyn BlobSink) -> Result<(), String> {
    crate::source::git::scan_into_sink(git_dir, &repo.display(), crate::DEFAULT_MAX_FILE_SIZE, sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{hub::provenance::RepoType, Blob, Provenance, SkipReason};
    use std::{fs, sync::Mutex};

    const TOKEN: &str = "hf_SyntheticTokenForTestsOnlyAbcdefgh";

    #[test]
    fn clone_url_hides_the_token() {
        let repo = RepoRef::new(RepoType::Dataset, "acme/d");
        let url = CloneUrl::new("https://huggingface.co/", &repo, Token::new(TOKEN));
        assert_eq!(url.as_str(), "https://huggingface.co/datasets/acme/d");
        assert_eq!(
            url.to_string(),
            "https://hf_user:****@huggingface.co/datasets/acme/d"
        );
        assert!(!format!("{url:?}").contains(TOKEN));
        assert_eq!(
            url.with_credentials().unwrap(),
            format!("https://hf_user:{TOKEN}@huggingface.co/datasets/acme/d")
        );
        let env = url.git_env();
        assert!(env.contains(&("GIT_CONFIG_COUNT".into(), "2".into())));
        assert!(env.contains(&(
            "GIT_CONFIG_KEY_1".into(),
            "http.https://huggingface.co/datasets/acme/d.extraHeader".into()
        )));
        let anonymous = CloneUrl::new("https://huggingface.co", &repo, None);
        assert_eq!(
            anonymous.to_string(),
            "https://huggingface.co/datasets/acme/d"
        );
        assert_eq!(
            anonymous.git_env()[0],
            ("GIT_CONFIG_COUNT".into(), "1".into())
        );
    }

    #[derive(Default)]
    struct Collect(Mutex<Vec<Blob>>);

    impl BlobSink for Collect {
        fn blob(&self, blob: Blob) {
            self.0.lock().unwrap().push(blob);
        }
        fn skip(&self, _: SkipReason) {}
        fn error(&self, _: &str, _: &str) {}
        fn note(&self, _: &str) {}
    }

    /// A stand-in history scanner: hands over the clone's packed refs.
    fn refs_scanner(git_dir: &Path, _: &RepoRef, sink: &dyn BlobSink) -> Result<(), String> {
        let refs = fs::read(git_dir.join("packed-refs")).map_err(|e| e.to_string())?;
        sink.blob(Blob {
            data: refs,
            provenance: Provenance::Stdin,
        });
        Ok(())
    }

    #[test]
    fn clones_and_hands_over_the_clone() {
        let root = tempfile::tempdir().unwrap();
        let work = root.path().join("acme/m");
        fs::create_dir_all(&work).unwrap();
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .current_dir(&work)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        fs::write(work.join("a.txt"), "hello\n").unwrap();
        git(&["add", "a.txt"]);
        git(&["commit", "-q", "-m", "first"]);
        let endpoint = format!("file://{}", root.path().display());
        let repo = RepoRef::new(RepoType::Model, "acme/m");
        let sink = Collect::default();
        scan(&endpoint, &repo, Token::new(TOKEN), refs_scanner, &sink).unwrap();
        let blobs = sink.0.into_inner().unwrap();
        assert!(String::from_utf8_lossy(&blobs[0].data).contains("refs/heads/main"));

        let missing = RepoRef::new(RepoType::Model, "acme/none");
        let err = scan(&endpoint, &missing, None, refs_scanner, &Collect::default()).unwrap_err();
        assert!(matches!(err, HistoryError::Clone { .. }), "{err}");
    }
}
