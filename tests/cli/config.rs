//! Telling leakhound what is known: `.leakhound.yaml`, inline ignores, baselines and ignore
//! files, through the binary, on real files and real git repositories.

use serde_json::Value;

use crate::util::*;

fn rule_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

fn lines_of(report: &Value) -> Vec<(String, u64)> {
    let mut lines: Vec<(String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["locations"].as_array().unwrap().clone())
        .map(|l| {
            (
                l["path"].as_str().unwrap().to_string(),
                l["line"].as_u64().unwrap(),
            )
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn every_pragma_suppresses_its_line() {
    let fx = Fixture::new();
    let token = github_token();
    fx.write(
        "app.py",
        format!(
            "a = \"{token}\"  # leakhound:allow\n\
             # leakhound:allow-next-line\n\
             b = \"{HF_TOKEN}\"\n\
             c = \"{token}\"  // gitleaks:allow\n\
             d = \"{token}\"  # betterleaks:allow\n\
             e = \"{token}\"  # pragma: allowlist secret\n\
             # pragma: allowlist nextline secret\n\
             f = \"{HF_TOKEN}\"\n\
             g = \"{AWS_KEY_ID}\"\n"
        ),
    );
    let run = fx.run(&["scan", "app.py", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    // Only the unmarked line is reported.
    assert_eq!(lines_of(&report), vec![("app.py".to_string(), 9)]);
    assert_eq!(report["summary"]["suppressed"]["inline_ignore"], 6);
    assert!(
        run.stderr.contains("suppressed 6 (6 inline)"),
        "{}",
        run.stderr
    );

    // Other tools' pragmas can be switched off, and all pragmas for an audit.
    let run = fx.run(&["scan", "app.py", "-f", "json", "--no-other-tool-pragmas"]);
    let lines: Vec<u64> = lines_of(&run.json()).iter().map(|(_, l)| *l).collect();
    assert_eq!(lines, vec![4, 5, 6, 8, 9]);
    let run = fx.run(&["scan", "app.py", "-f", "json", "--no-inline-ignores"]);
    assert_eq!(lines_of(&run.json()).len(), 7);
}

#[test]
fn baseline_round_trip_survives_line_moves_and_reformatting() {
    let fx = Fixture::new();
    let token = github_token();
    fx.write(
        "src/settings.py",
        format!("GITHUB = \"{token}\"\nHF = '{HF_TOKEN}'\n"),
    );
    let run = fx.run(&["scan", ".", "--write-baseline", ".leakhound-baseline.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("baseline written"), "{}", run.stderr);
    let stored = std::fs::read_to_string(fx.path().join(".leakhound-baseline.json")).unwrap();
    assert!(
        !stored.contains(&token) && !stored.contains(HF_TOKEN),
        "{stored}"
    );
    assert!(
        !stored.contains(&token[4..20]),
        "a part of the secret is stored: {stored}"
    );

    // Move the lines, change quoting and indentation, add a new secret.
    fx.write(
        "src/settings.py",
        format!(
            "# settings\n\nclass Settings:\n    HF = \"{HF_TOKEN}\"\n    GITHUB = '{token}'\n\
             AWS = \"{AWS_KEY_ID}\"\n"
        ),
    );
    let run = fx.run(&[
        "scan",
        ".",
        "-f",
        "json",
        "--baseline",
        ".leakhound-baseline.json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(rule_ids(&report), vec!["aws-access-key-id"]);
    assert_eq!(report["summary"]["suppressed"]["baseline"], 2);

    // The same baseline applies from another directory, through the config file.
    fx.write(".leakhound.yaml", "baseline: .leakhound-baseline.json\n");
    let elsewhere = Fixture::new();
    let root = fx.path().to_str().unwrap();
    let run = elsewhere.run(&["scan", root, "-f", "json"]);
    assert_eq!(
        rule_ids(&run.json()),
        vec!["aws-access-key-id"],
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("baseline"), "{}", run.stderr);
}

#[test]
fn config_typo_is_a_clear_error() {
    let fx = Fixture::new();
    fx.write("a.txt", "nothing\n");
    fx.write(
        ".leakhound.yaml",
        "min_confidence: medium\nexlude:\n  - docs/**\n",
    );
    let run = fx.run(&["scan", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(".leakhound.yaml:2"), "{}", run.stderr);
    assert!(run.stderr.contains("exlude"), "{}", run.stderr);

    fx.write(".leakhound.yaml", "rules:\n  disable: [github-pat]\n");
    let run = fx.run(&["scan", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(".leakhound.yaml:2"), "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown rule id `github-pat`"),
        "{}",
        run.stderr
    );

    // --no-config skips it.
    assert_eq!(fx.run(&["scan", ".", "--no-config", "-q"]).code, 0);
}

#[test]
fn config_selects_rules_excludes_paths_and_allowlists_values() {
    let fx = Fixture::new();
    let token = github_token();
    fx.write(
        "keys.env",
        format!("GH={token}\nHF={HF_TOKEN}\nAWS={AWS_KEY_ID}\n"),
    );
    fx.write("fixtures/sample.env", format!("GH={token}\n"));
    fx.write("docs/example.md", "DB_PASSWORD=9fKq2Lm%TzR7wXb4\n");
    fx.write(
        ".leakhound.yaml",
        format!(
            "# quiet the known things\n\
             exclude: [\"fixtures/**\"]\n\
             min_confidence: medium\n\
             rules:\n  disable: [aws-access-key-id]\n\
             allowlists:\n\
             \x20 - description: the shared demo token\n\
             \x20   secrets: [\"{HF_TOKEN}\"]\n"
        ),
    );
    let run = fx.run(&["scan", ".", "-f", "json"]);
    let report = run.json();
    assert_eq!(
        lines_of(&report),
        vec![("keys.env".to_string(), 1)],
        "{}",
        run.stderr
    );
    // keys.env, and the config file itself, which names the value.
    assert_eq!(report["summary"]["suppressed"]["allowlist"], 2);
    assert!(run.stderr.contains("config"), "{}", run.stderr);
    // The command line wins over the config.
    let run = fx.run(&["scan", ".", "-f", "json", "--min-confidence", "low"]);
    assert!(rule_ids(&run.json()).contains(&"generic-password-assignment".to_string()));
}

#[test]
fn config_excludes_and_allowlisted_commits_apply_to_history() {
    let fx = Fixture::new();
    let dir = init(&fx);
    let token = github_token();
    fx.write("fixtures/token.txt", format!("{token}\n"));
    commit_all(dir, "add fixture");
    fx.write("leak.txt", format!("{HF_TOKEN}\n"));
    let leak_commit = commit_all(dir, "oops");
    git(dir, &["rm", "-q", "leak.txt", "fixtures/token.txt"]);
    commit_all(dir, "remove");
    let run = fx.run(&["scan", ".", "-f", "json"]);
    assert_eq!(rule_ids(&run.json()).len(), 2, "{}", run.stdout);

    fx.write(
        ".leakhound.yaml",
        format!(
            "exclude: [\"fixtures/**\"]\nallowlists:\n  - description: rotated in INC-1\n    \
             commits: [\"{}\"]\n",
            &leak_commit[..10]
        ),
    );
    let run = fx.run(&["scan", ".", "-f", "json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["summary"]["suppressed"]["allowlist"], 1);
}

#[test]
fn ignore_files_suppress_by_fingerprint() {
    let fx = Fixture::new();
    let token = github_token();
    fx.write("a.env", format!("GH={token}\nHF={HF_TOKEN}\n"));
    let report = fx.run(&["scan", ".", "-f", "json"]).json();
    let github = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "github-personal-access-token")
        .unwrap();
    let fingerprint = github["locations"][0]["fingerprint"].as_str().unwrap();
    fx.write(
        ".leakhoundignore",
        format!("# test token, see TEST-12\n{fingerprint}\n"),
    );
    // A gitleaks fingerprint (path:rule:line) for the other one.
    fx.write(".gitleaksignore", "a.env:huggingface-user-token:2\n");
    let run = fx.run(&["scan", ".", "-f", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["summary"]["suppressed"]["ignore_file"], 2);

    fx.write(".leakhoundignore", "not-a-fingerprint\n");
    let run = fx.run(&["scan", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(".leakhoundignore:1"), "{}", run.stderr);
}

#[test]
fn blocked_commit_names_file_line_rule_and_three_ways_out() {
    let fx = Fixture::new();
    let dir = init(&fx);
    fx.write("README.md", "hello\n");
    commit_all(dir, "init");
    let token = github_token();
    fx.write(
        "deploy.sh",
        format!("#!/bin/sh\nexport GITHUB_TOKEN={token}\n"),
    );
    git(dir, &["add", "deploy.sh"]);
    let run = fx.run(&["scan", "--staged"]);
    assert_eq!(run.code, 1);
    let stderr = &run.stderr;
    assert!(stderr.contains("commit blocked"), "{stderr}");
    assert!(
        stderr.contains("deploy.sh:2  github-personal-access-token  ghp_"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&token) && !run.stdout.contains(&token),
        "secret printed"
    );
    for way in ["Remove the secret", "leakhound:allow", "--write-baseline"] {
        assert!(stderr.contains(way), "missing `{way}`: {stderr}");
    }

    // Way 2: an inline allow unblocks the commit.
    fx.write(
        "deploy.sh",
        format!("#!/bin/sh\nexport GITHUB_TOKEN={token} # leakhound:allow\n"),
    );
    git(dir, &["add", "deploy.sh"]);
    assert_eq!(fx.run(&["scan", "--staged", "-q"]).code, 0);

    // Way 3: a baseline written from the working tree unblocks it as well.
    fx.write(
        "deploy.sh",
        format!("#!/bin/sh\nexport GITHUB_TOKEN={token}\n"),
    );
    git(dir, &["add", "deploy.sh"]);
    let run = fx.run(&[
        "scan",
        ".",
        "--no-history",
        "--write-baseline",
        ".leakhound-baseline.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    fx.write(".leakhound.yaml", "baseline: .leakhound-baseline.json\n");
    let run = fx.run(&["scan", "--staged"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
