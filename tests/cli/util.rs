//! The fixture: a temporary directory, synthetic tokens, and a way to run the binary in it.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use leakhound::engine::checksum::with_crc32_base62_suffix;

/// A synthetic, structurally valid GitHub classic token (correct CRC-32 suffix, random body).
pub fn github_token() -> String {
    with_crc32_base62_suffix("ghp_", "Zq3xL9vB2mN7kR4tY8wE1aS5dF6gH0")
}

/// A synthetic Hugging Face user token: `hf_` + 34 letters.
pub const HF_TOKEN: &str = "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";

/// A synthetic AWS access key id.
pub const AWS_KEY_ID: &str = "AKIAZ5QW3RTY7UIOPLKJ";

pub struct Fixture {
    dir: tempfile::TempDir,
}

/// What one run of the binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating parent directories) and returns its path.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }

    /// Runs `leakhound ARGS` with the fixture as working directory and a clean environment.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        self.run_with_env(args, &[], stdin)
    }

    /// Like [`Fixture::run_with_stdin`], with `env` added to the clean environment.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, String)], stdin: Option<&[u8]>) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_leakhound"))
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn leakhound");
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        Run {
            code: status.code().expect("exited normally"),
            stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
        }
    }
}

/// Runs git in `dir` with a fixed identity and date, isolated from the user's config.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_as(
        dir,
        args,
        "Alice Example",
        "alice@example.com",
        "2024-01-02T10:00:00+01:00",
    )
}

pub fn git_as(dir: &Path, args: &[&str], name: &str, email: &str, date: &str) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", name)
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_NAME", name)
        .env("GIT_COMMITTER_EMAIL", email)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

pub fn init(fx: &Fixture) -> &Path {
    let dir = fx.path();
    git(dir, &["init", "-q", "-b", "main"]);
    dir
}

pub fn commit_all(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}
