//! Git benchmark: `cargo bench --bench git_history`.
//!
//! 1. Builds a synthetic repository with `git fast-import` (default 3,000 commits touching
//!    three 8 KiB files each, about 70 MiB of unique blobs; scale with `LEAKHOUND_BENCH_COMMITS`)
//!    and reports the history scan's unique-blob MB/s, its ratio to the time
//!    `git cat-file --batch-all-objects --batch --unordered` needs to read every object, and
//!    peak RSS.
//! 2. Builds a repository with 10,000 committed files, one staged change, a `.leakhound.yaml`
//!    and a baseline, and reports the
//!    median wall time of `leakhound scan --staged` over 30 runs (the pre-commit path).
//!
//! Peak RSS is the process's high-water mark after the history scan (the bench itself holds
//! little else); the `git cat-file` child that feeds the scan is measured separately.

use std::{
    fs,
    io::Write,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use leakhound::{
    engine::Scanner,
    pipeline::{scan_inputs, Input, ScanConfig},
    rules::RuleSet,
};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .stdout(Stdio::null())
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

/// Deterministic text that compresses like source code rather than like random bytes.
fn file_body(commit: usize, file: usize, size: usize) -> String {
    let mut body = String::with_capacity(size + 64);
    let mut n = (commit * 7919 + file * 104_729) as u64;
    while body.len() < size {
        n = n
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        body.push_str(&format!(
            "    let value_{} = config.get(\"key_{}\").unwrap_or({});\n",
            n % 997,
            n % 131,
            n % 10_007
        ));
    }
    if commit % 500 == 7 && file == 0 {
        body.push_str(&format!(
            "HF_TOKEN = \"hf_{}\"\n",
            "QmZ8rT2zLp4Xv9NbK3mYdWc7Hs6Fj1AgRe"
        ));
    }
    body
}

/// A history of `commits` commits, each rewriting three of 40 files, via fast-import.
fn build_history(dir: &Path, commits: usize) -> u64 {
    git(dir, &["init", "-q", "-b", "main"]);
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
    let mut blob_bytes = 0u64;
    for commit in 0..commits {
        writeln!(stdin, "commit refs/heads/main").unwrap();
        writeln!(
            stdin,
            "committer Bench <bench@example.com> {} +0000",
            1_600_000_000 + commit * 60
        )
        .unwrap();
        let message = format!("change {commit}");
        writeln!(stdin, "data {}\n{message}", message.len()).unwrap();
        for file in 0..3 {
            let body = file_body(commit, file, 8 * 1024);
            blob_bytes += body.len() as u64;
            let path = format!(
                "src/module_{}/file_{}.rs",
                (commit + file) % 8,
                (commit * 3 + file) % 40
            );
            writeln!(stdin, "M 100644 inline {path}\ndata {}", body.len()).unwrap();
            stdin.write_all(body.as_bytes()).unwrap();
            writeln!(stdin).unwrap();
        }
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    git(dir, &["gc", "-q", "--aggressive"]);
    blob_bytes
}

fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn time_git_cat_file(dir: &Path) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let status = Command::new("git")
            .args(["cat-file", "--batch-all-objects", "--batch", "--unordered"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        best = best.min(start.elapsed());
    }
    best
}

fn history_bench(commits: usize) {
    let dir = tempfile::tempdir().unwrap();
    let built = Instant::now();
    let written = build_history(dir.path(), commits);
    println!(
        "history: {commits} commits, {:.1} MiB of blob writes, built in {:.1}s",
        written as f64 / 1048576.0,
        built.elapsed().as_secs_f64()
    );
    let rules = RuleSet::builtin().unwrap();
    let scanner = Scanner::new(&rules);
    let input = [Input::Path(dir.path().to_path_buf())];
    let mut best = Duration::MAX;
    let mut output = None;
    for _ in 0..3 {
        let start = Instant::now();
        let result = scan_inputs(&scanner, &ScanConfig::default(), &input);
        best = best.min(start.elapsed());
        output = Some(result);
    }
    let output = output.unwrap();
    let bytes = output.stats.bytes_scanned as f64 / 1048576.0;
    let git_time = time_git_cat_file(dir.path());
    println!(
        "history scan: {} unique blobs, {bytes:.1} MiB in {:.3}s = {:.1} MB/s; git cat-file reads all objects in {:.3}s (ratio {:.2}x); {} findings; peak RSS {} KiB",
        output.stats.blobs_scanned,
        best.as_secs_f64(),
        bytes / best.as_secs_f64(),
        git_time.as_secs_f64(),
        best.as_secs_f64() / git_time.as_secs_f64(),
        output.findings.len(),
        peak_rss_kib().map_or("n/a".into(), |k| k.to_string()),
    );
}

fn staged_bench() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    for i in 0..10_000 {
        let sub = root.join(format!("pkg{}", i % 100));
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join(format!("f{i}.py")), format!("value_{i} = {i}\n")).unwrap();
    }
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "10k files"]);
    fs::write(root.join("pkg7/f7.py"), "value_7 = 8\nDEBUG = True\n").unwrap();
    git(root, &["add", "pkg7/f7.py"]);
    let binary = env!("CARGO_BIN_EXE_leakhound");
    // A realistic project setup, so the hook pays for reading it: a config with excludes,
    // an allowlist and stopwords, and a baseline.
    fs::write(
        root.join(".leakhound.yaml"),
        "exclude: [\"vendor/**\", \"*.min.js\"]\nstopwords: [dummy]\nallowlists:\n  - description: \
         fixtures\n    paths: [\"tests/fixtures/**\"]\n    regexes: ['^test_']\nbaseline: \
         .leakhound-baseline.json\n",
    )
    .unwrap();
    let status = Command::new(binary)
        .args([
            "scan",
            "--quiet",
            "--no-history",
            "--write-baseline",
            ".leakhound-baseline.json",
        ])
        .current_dir(root)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut times: Vec<Duration> = (0..30)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(binary)
                .args(["scan", "--staged", "--quiet"])
                .current_dir(root)
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert_eq!(status.code(), Some(0));
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "scan --staged, 10,000 files, 1 changed, with .leakhound.yaml and a baseline: median {:.1} ms (min {:.1} ms, max {:.1} ms, 30 runs)",
        times[15].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[29].as_secs_f64() * 1000.0
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run tiny then.
    let benching = std::env::args().any(|a| a == "--bench");
    let commits = std::env::var("LEAKHOUND_BENCH_COMMITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 3000 } else { 20 });
    history_bench(commits);
    if benching {
        staged_bench();
    }
}
