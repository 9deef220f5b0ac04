//! Git sources: full history with provenance, working tree, staged changes, hooks, remotes,
//! and broken repositories. Repositories are real, built with the git CLI.

use std::process::Command;

use serde_json::Value;

use crate::util::*;

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

fn by_rule<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    findings(report)
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .collect()
}

#[test]
fn deleted_secret_is_found_with_full_provenance() {
    let fx = Fixture::new();
    let dir = init(&fx);
    fx.write("app/config.py", format!("HF_TOKEN = \"{HF_TOKEN}\"\n"));
    fx.write("README.md", "hello\n");
    let added = git_as(
        dir,
        &["add", "-A"],
        "Bob Builder",
        "bob@example.org",
        "2024-03-04T05:06:07-05:00",
    );
    assert_eq!(added, "");
    git_as(
        dir,
        &["commit", "-q", "-m", "Add config\n\nlong body"],
        "Bob Builder",
        "bob@example.org",
        "2024-03-04T05:06:07-05:00",
    );
    let first = git(dir, &["rev-parse", "HEAD"]);
    std::fs::remove_file(dir.join("app/config.py")).unwrap();
    commit_all(dir, "Remove config");

    let run = fx.run(&["scan", "-f", "json", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let hf = by_rule(&report, "huggingface-user-token");
    assert_eq!(hf.len(), 1);
    let location = &hf[0]["locations"][0];
    assert_eq!(location["source"], "git");
    assert_eq!(location["path"], "app/config.py");
    assert_eq!(location["line"], 1);
    let git_info = &location["git"];
    assert_eq!(git_info["repository"], ".");
    assert_eq!(git_info["deleted"], true);
    assert_eq!(git_info["present_in_branches"], serde_json::json!([]));
    let commit = &git_info["commit"];
    assert_eq!(commit["id"], first);
    assert_eq!(commit["author_name"], "Bob Builder");
    assert_eq!(commit["author_email"], "bob@example.org");
    assert_eq!(commit["author_date"], "2024-03-04T05:06:07-05:00");
    assert_eq!(commit["committer_date"], "2024-03-04T05:06:07-05:00");
    assert_eq!(commit["summary"], "Add config");
    assert_eq!(report["summary"]["commits"], 2);

    // The human report names the commit, the author and the deletion.
    let run = fx.run(&["scan", "."]);
    assert!(run.stdout.contains(&first[..10]), "{}", run.stdout);
    assert!(run.stdout.contains("Bob Builder <bob@example.org>"));
    assert!(run.stdout.contains("deleted: history only"));
    assert!(!run.stdout.contains(HF_TOKEN));
}

#[test]
fn each_blob_is_scanned_once_and_introduced_once() {
    let fx = Fixture::new();
    let dir = init(&fx);
    fx.write("secrets.env", format!("HF_TOKEN={HF_TOKEN}\n"));
    let first = commit_all(dir, "one");
    for i in 0..5 {
        fx.write("other.txt", format!("change {i}\n"));
        commit_all(dir, &format!("change {i}"));
    }
    // Rename: the same blob under a new path is still one blob, first seen in `first`.
    git(dir, &["mv", "secrets.env", "moved.env"]);
    commit_all(dir, "rename");
    let report = fx.run(&["scan", "-f", "json", "."]).json();
    let hf = by_rule(&report, "huggingface-user-token");
    assert_eq!(hf.len(), 1);
    assert_eq!(hf[0]["locations"].as_array().unwrap().len(), 1);
    let location = &hf[0]["locations"][0];
    assert_eq!(location["path"], "secrets.env");
    assert_eq!(location["git"]["commit"]["id"], first);
    assert_eq!(location["git"]["deleted"], false);
    assert_eq!(
        location["git"]["present_in_branches"],
        serde_json::json!(["main"])
    );
    // 1 secrets blob + 5 versions of other.txt; the rename adds no blob.
    assert_eq!(report["summary"]["blobs_scanned"], 6);
    assert_eq!(report["summary"]["commits"], 7);
}

#[test]
fn overwritten_side_branch_merge_and_stash() {
    let fx = Fixture::new();
    let dir = init(&fx);
    let gh = github_token();
    fx.write("conf.yaml", format!("token: {HF_TOKEN}\n"));
    commit_all(dir, "add");
    // Overwritten on main.
    fx.write("conf.yaml", "token: ${HF_TOKEN}\n");
    commit_all(dir, "overwrite");
    // A secret on a side branch only.
    git(dir, &["checkout", "-q", "-b", "feature"]);
    fx.write("feature.txt", format!("GITHUB_TOKEN={gh}\n"));
    let feature_commit = commit_all(dir, "feature work");
    // A secret that arrives on main through a merge.
    git(dir, &["checkout", "-q", "-b", "topic", "main"]);
    fx.write("merged.txt", format!("aws_access_key_id = {AWS_KEY_ID}\n"));
    commit_all(dir, "topic");
    git(dir, &["checkout", "-q", "main"]);
    git(
        dir,
        &["merge", "-q", "--no-ff", "-m", "merge topic", "topic"],
    );
    // A secret that only lives in a stash.
    fx.write("wip.txt", "work in progress\n");
    git(dir, &["add", "wip.txt"]);
    git(dir, &["commit", "-q", "-m", "wip file"]);
    let stashed = leakhound::engine::checksum::with_crc32_base62_suffix(
        "ghp_",
        "Pq7wErTy5uIo3pAs1dFgH9jKl2zXcV",
    );
    fx.write("wip.txt", format!("token={stashed}\n"));
    git(dir, &["stash", "-q"]);

    let report = fx.run(&["scan", "-f", "json", "."]).json();
    let hf = by_rule(&report, "huggingface-user-token");
    assert_eq!(
        hf[0]["locations"][0]["git"]["deleted"], true,
        "overwritten on every branch"
    );

    let github: Vec<&Value> = by_rule(&report, "github-personal-access-token");
    let feature = github
        .iter()
        .find(|f| f["locations"][0]["path"] == "feature.txt")
        .expect("side-branch secret");
    assert_eq!(
        feature["locations"][0]["git"]["commit"]["id"],
        feature_commit
    );
    assert_eq!(
        feature["locations"][0]["git"]["present_in_branches"],
        serde_json::json!(["feature"])
    );

    let aws = by_rule(&report, "aws-access-key-id");
    assert_eq!(
        aws[0]["locations"][0]["git"]["present_in_branches"],
        serde_json::json!(["main", "topic"])
    );

    let stash = github
        .iter()
        .find(|f| f["locations"][0]["path"] == "wip.txt")
        .expect("stashed secret");
    assert_eq!(stash["locations"][0]["git"]["deleted"], true);
}

#[test]
fn branch_since_and_no_history_narrow_the_scan() {
    let fx = Fixture::new();
    let dir = init(&fx);
    fx.write("old.txt", format!("HF_TOKEN={HF_TOKEN}\n"));
    let old = git_as(dir, &["add", "-A"], "A", "a@x", "2020-01-01T00:00:00+00:00");
    assert_eq!(old, "");
    git_as(
        dir,
        &["commit", "-q", "-m", "old"],
        "A",
        "a@x",
        "2020-01-01T00:00:00+00:00",
    );
    let old_commit = git(dir, &["rev-parse", "HEAD"]);
    std::fs::remove_file(dir.join("old.txt")).unwrap();
    fx.write("new.txt", format!("aws_access_key_id = {AWS_KEY_ID}\n"));
    commit_all(dir, "new");
    git(dir, &["checkout", "-q", "-b", "side"]);
    fx.write("side.txt", format!("GITHUB_TOKEN={}\n", github_token()));
    commit_all(dir, "side");
    git(dir, &["checkout", "-q", "main"]);

    let rules = |report: &Value| -> Vec<String> {
        let mut ids: Vec<String> = findings(report)
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let all = fx.run(&["scan", "-f", "json", "."]).json();
    assert_eq!(
        rules(&all),
        [
            "aws-access-key-id",
            "github-personal-access-token",
            "huggingface-user-token"
        ]
    );
    let main_only = fx
        .run(&["scan", "-f", "json", "--branch", "main", "."])
        .json();
    assert_eq!(
        rules(&main_only),
        ["aws-access-key-id", "huggingface-user-token"]
    );
    let since_date = fx
        .run(&["scan", "-f", "json", "--since", "2023-01-01", "."])
        .json();
    assert_eq!(
        rules(&since_date),
        ["aws-access-key-id", "github-personal-access-token"]
    );
    let since_commit = fx
        .run(&["scan", "-f", "json", "--since", &old_commit, "."])
        .json();
    assert_eq!(
        rules(&since_commit),
        ["aws-access-key-id", "github-personal-access-token"]
    );
    let working_tree = fx.run(&["scan", "-f", "json", "--no-history", "."]).json();
    assert_eq!(rules(&working_tree), ["aws-access-key-id"]);
    assert_eq!(
        working_tree["findings"][0]["locations"][0]["source"],
        "file"
    );
}

#[test]
fn uncommitted_files_are_scanned_once() {
    let fx = Fixture::new();
    let dir = init(&fx);
    fx.write("committed.txt", format!("HF_TOKEN={HF_TOKEN}\n"));
    commit_all(dir, "c");
    fx.write(
        "untracked.env",
        format!("aws_access_key_id = {AWS_KEY_ID}\n"),
    );
    let report = fx.run(&["scan", "-f", "json", "."]).json();
    let hf = by_rule(&report, "huggingface-user-token");
    // The committed file is identical in the working tree: reported once, from history.
    assert_eq!(hf[0]["locations"].as_array().unwrap().len(), 1);
    assert_eq!(hf[0]["locations"][0]["source"], "git");
    let aws = by_rule(&report, "aws-access-key-id");
    assert_eq!(aws[0]["locations"][0]["source"], "file");
    assert_eq!(aws[0]["locations"][0]["path"], "untracked.env");
}

#[test]
fn staged_scan_reports_only_added_lines() {
    let fx = Fixture::new();
    let dir = init(&fx);
    fx.write("settings.py", format!("OLD = \"{HF_TOKEN}\"\n"));
    commit_all(dir, "old secret, already in history");
    // Stage an unrelated change to the same file: the old secret must not block it.
    fx.write(
        "settings.py",
        format!("OLD = \"{HF_TOKEN}\"\nDEBUG = True\n"),
    );
    git(dir, &["add", "settings.py"]);
    let run = fx.run(&["scan", "--staged"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Now stage a new secret; an unstaged one must not count.
    fx.write(
        "deploy.sh",
        format!("export GITHUB_TOKEN={}\n", github_token()),
    );
    git(dir, &["add", "deploy.sh"]);
    fx.write(
        "unstaged.txt",
        format!("aws_access_key_id = {AWS_KEY_ID}\n"),
    );
    let run = fx.run(&["scan", "--staged", "-f", "json"]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(findings(&report).len(), 1);
    assert_eq!(
        report["findings"][0]["rule_id"],
        "github-personal-access-token"
    );
    assert_eq!(report["findings"][0]["locations"][0]["path"], "deploy.sh");
    let run = fx.run(&["scan", "--staged"]);
    assert!(run.stderr.contains("commit blocked"), "{}", run.stderr);
    assert!(run.stdout.contains("deploy.sh:1:"), "{}", run.stdout);
}

#[test]
fn staged_scan_in_a_repository_without_commits() {
    let fx = Fixture::new();
    let dir = init(&fx);
    fx.write("first.txt", format!("{HF_TOKEN}\n"));
    git(dir, &["add", "first.txt"]);
    assert_eq!(fx.run(&["scan", "--staged", "-q"]).code, 1);
}

#[test]
fn pre_commit_hook_blocks_a_real_commit() {
    let fx = Fixture::new();
    let dir = init(&fx);
    fx.write("a.txt", "clean\n");
    commit_all(dir, "clean");
    let run = fx.run(&["install-hook"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(dir.join(".git/hooks/pre-commit").exists());
    let again = fx.run(&["install-hook"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(fx.run(&["install-hook", "--force"]).code, 0);

    fx.write("leak.env", format!("HF_TOKEN={HF_TOKEN}\n"));
    git(dir, &["add", "leak.env"]);
    let output = Command::new("git")
        .args(["commit", "-q", "-m", "leak"])
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@x")
        .env("GIT_COMMITTER_NAME", "A")
        .env("GIT_COMMITTER_EMAIL", "a@x")
        .output()
        .unwrap();
    assert!(!output.status.success(), "the hook must block the commit");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("commit blocked"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(HF_TOKEN));
    assert_eq!(git(dir, &["rev-list", "--count", "HEAD"]), "1");

    // Without the secret the commit goes through.
    fx.write("leak.env", "HF_TOKEN=${HF_TOKEN}\n");
    git(dir, &["add", "leak.env"]);
    commit_all(dir, "safe");
    assert_eq!(git(dir, &["rev-list", "--count", "HEAD"]), "2");
}

#[test]
fn remote_url_is_cloned_scanned_and_removed() {
    let origin = Fixture::new();
    let dir = init(&origin);
    origin.write("x.txt", format!("HF_TOKEN={HF_TOKEN}\n"));
    commit_all(dir, "x");
    let fx = Fixture::new();
    let url = format!("file://{}", dir.display());
    let run = fx.run(&["scan", "-f", "json", &url]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        report["findings"][0]["locations"][0]["git"]["repository"],
        url.as_str()
    );
    let run = fx.run(&["scan", "file:///nonexistent/repo.git"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("git clone failed"), "{}", run.stderr);
}

#[test]
fn broken_repositories_are_reported_and_the_scan_goes_on() {
    let fx = Fixture::new();
    let dir = init(&fx);
    fx.write("good.txt", format!("HF_TOKEN={HF_TOKEN}\n"));
    fx.write("victim.txt", "this blob will be corrupted\n");
    fx.write("big.txt", "x".repeat(4096));
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(
            dir.join(name),
            format!("aws_access_key_id = {AWS_KEY_ID}\n"),
        )
        .unwrap();
    }
    commit_all(dir, "c");
    // Corrupt the loose object of victim.txt.
    let victim = git(dir, &["rev-parse", "HEAD:victim.txt"]);
    let object = dir
        .join(".git/objects")
        .join(&victim[..2])
        .join(&victim[2..]);
    let mut permissions = std::fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&object, permissions).unwrap();
    std::fs::write(&object, b"not zlib at all").unwrap();
    // Keep the working tree from re-adding the victim content.
    std::fs::remove_file(dir.join("victim.txt")).unwrap();

    let run = fx.run(&["scan", "-f", "json", "--max-file-size", "1K", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["path"].as_str().unwrap().contains("victim.txt")),
        "{errors:?}"
    );
    assert!(report["summary"]["skipped"]["too_large"].as_u64().unwrap() >= 1);
    assert!(!by_rule(&report, "huggingface-user-token").is_empty());
    #[cfg(unix)]
    {
        let aws = by_rule(&report, "aws-access-key-id");
        assert_eq!(aws[0]["locations"][0]["path"], "caf\u{fffd}.txt");
    }
}

#[test]
fn shallow_clone_and_submodule() {
    let origin = Fixture::new();
    let dir = init(&origin);
    origin.write("a.txt", "one\n");
    commit_all(dir, "one");
    origin.write("a.txt", format!("HF_TOKEN={HF_TOKEN}\n"));
    commit_all(dir, "two");
    // A gitlink entry, as a submodule leaves in the tree.
    let head = git(dir, &["rev-parse", "HEAD"]);
    git(
        dir,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{head},vendor/lib"),
        ],
    );
    git(dir, &["commit", "-q", "-m", "submodule"]);

    let fx = Fixture::new();
    let url = format!("file://{}", dir.display());
    Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url, "shallow"])
        .current_dir(fx.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    let run = fx.run(&["scan", "-f", "json", "shallow"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(by_rule(&report, "huggingface-user-token").len(), 1);
    assert_eq!(report["summary"]["commits"], 1);
    assert!(report["summary"]["skipped"]["special"].as_u64().unwrap() >= 1);
}

#[test]
fn a_broken_dot_git_falls_back_to_a_directory_scan_with_a_note() {
    let fx = Fixture::new();
    fx.write(".git/HEAD", "garbage\n");
    fx.write("a.txt", format!("{HF_TOKEN}\n"));
    let run = fx.run(&["scan", "-f", "json", "."]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("scanning it as a directory"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["findings"][0]["locations"][0]["source"], "file");
}

/// `leakhound hf --history` hands its temporary clone to the git history walk; this drives
/// that hook on a real bare repository, as the Hub's git server would have produced it.
#[test]
fn hub_history_hook_reports_git_provenance() {
    use leakhound::{
        engine::Scanner,
        pipeline::scan_pushed,
        rules::RuleSet,
        source::hub::{
            history::scan_with_git,
            provenance::{RepoRef, RepoType},
        },
    };
    let origin = Fixture::new();
    let dir = init(&origin);
    origin.write("train.py", format!("login(token=\"{HF_TOKEN}\")\n"));
    let added = commit_all(dir, "add training script");
    origin.write("train.py", "login()\n");
    commit_all(dir, "remove token");
    let bare = Fixture::new();
    let url = format!("file://{}", dir.display());
    git(bare.path(), &["clone", "-q", "--mirror", &url, "repo.git"]);

    let scanner = Scanner::new(&RuleSet::builtin().unwrap());
    let repo = RepoRef::new(RepoType::Model, "acme/model");
    let (output, result) = scan_pushed(&scanner, &Default::default(), false, |sink| {
        scan_with_git(&bare.path().join("repo.git"), &repo, sink)
    });
    result.unwrap();
    assert_eq!(output.findings.len(), 1);
    let location = &output.findings[0].locations[0];
    let leakhound::source::Provenance::Git(git_location) = &location.provenance else {
        panic!("expected git provenance, got {:?}", location.provenance);
    };
    assert_eq!(git_location.repository, "hf://acme/model");
    assert_eq!(git_location.path, "train.py");
    assert_eq!(git_location.commit.as_ref().unwrap().id, added);
    assert!(
        git_location.present_in.is_empty(),
        "deleted from every branch"
    );
}
