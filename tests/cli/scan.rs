//! Inputs: directories, files, stdin, and every kind of awkward file.

use crate::util::*;

#[test]
fn finds_tokens_in_a_directory_with_locations() {
    let fx = Fixture::new();
    let gh = github_token();
    fx.write(
        "src/config.py",
        format!("import os\n\nGITHUB_TOKEN = \"{gh}\"\n"),
    );
    fx.write(".env", format!("HF_TOKEN={HF_TOKEN}\n"));
    fx.write("README.md", "nothing here\n");
    let run = fx.run(&["scan", "--format", "json", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    let github = findings
        .iter()
        .find(|f| f["rule_id"] == "github-personal-access-token")
        .expect("github finding");
    let location = &github["locations"][0];
    assert_eq!(location["path"], "src/config.py");
    assert_eq!(location["line"], 3);
    assert_eq!(location["column"], 17);
    assert_eq!(location["end_column"], 17 + 40);
    assert_eq!(location["offset"], 27);
    // The gitignore-able .env is scanned by default.
    assert!(findings
        .iter()
        .any(|f| f["rule_id"] == "huggingface-user-token"));
    assert_eq!(report["summary"]["blobs_scanned"], 3);
}

#[test]
fn identical_secrets_fold_into_one_finding() {
    let fx = Fixture::new();
    for name in ["a.txt", "b.txt", "c/d.txt"] {
        fx.write(name, format!("token: {HF_TOKEN}\n"));
    }
    let report = fx.run(&["scan", "-f", "json"]).json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    let paths: Vec<&str> = findings[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a.txt", "b.txt", "c/d.txt"]);
    // Fingerprints differ per path; the finding id is per secret.
    let fps: Vec<&str> = findings[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["fingerprint"].as_str().unwrap())
        .collect();
    assert_ne!(fps[0], fps[1]);
}

#[test]
fn fingerprint_survives_line_moves() {
    let fx = Fixture::new();
    fx.write("a.txt", format!("token: {HF_TOKEN}\n"));
    let before = fx.run(&["scan", "-f", "json"]).json();
    fx.write("a.txt", format!("\n\n# moved\ntoken:    {HF_TOKEN}\n"));
    let after = fx.run(&["scan", "-f", "json"]).json();
    let fp = |r: &serde_json::Value| r["findings"][0]["locations"][0]["fingerprint"].clone();
    assert_eq!(fp(&before), fp(&after));
    assert_eq!(after["findings"][0]["locations"][0]["line"], 4);
}

#[test]
fn stdin_is_scanned() {
    let fx = Fixture::new();
    let input = format!("curl -H 'Authorization: Bearer {HF_TOKEN}'\n");
    let run = fx.run_with_stdin(&["scan", "-f", "json", "-"], Some(input.as_bytes()));
    assert_eq!(run.code, 1);
    let location = &run.json()["findings"][0]["locations"][0];
    assert_eq!(location["source"], "stdin");
    assert_eq!(location["path"], "<stdin>");
}

#[test]
fn binary_files_are_skipped_and_counted() {
    let fx = Fixture::new();
    let mut data = b"\x00\x01\x02binary".to_vec();
    data.extend_from_slice(HF_TOKEN.as_bytes());
    fx.write("model.bin", data);
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["skipped"]["binary"], 1);
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    assert!(
        run.stderr.contains("skipped 1 (1 binary)"),
        "{}",
        run.stderr
    );
}

#[test]
fn oversized_files_are_skipped_and_counted() {
    let fx = Fixture::new();
    fx.write("big.txt", format!("{}\n{HF_TOKEN}\n", "x".repeat(4096)));
    fx.write("small.txt", format!("{HF_TOKEN}\n"));
    let run = fx.run(&["scan", "-f", "json", "--max-file-size", "1K"]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["summary"]["skipped"]["too_large"], 1);
    assert_eq!(
        report["findings"][0]["locations"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn invalid_utf8_content_and_names_are_scanned() {
    let fx = Fixture::new();
    let mut data = b"\xff\xfe garbage \xc3\x28 then ".to_vec();
    data.extend_from_slice(HF_TOKEN.as_bytes());
    data.extend_from_slice(b" \xff\n");
    fx.write("latin1.txt", &data);
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name.txt");
        std::fs::write(fx.path().join(name), format!("{}\n", github_token())).unwrap();
    }
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let hf = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "huggingface-user-token")
        .unwrap();
    // Invalid bytes count one column each: 2 + " garbage " (9) + 2 + " then " (6) = 19.
    assert_eq!(hf["locations"][0]["column"], 20);
    #[cfg(unix)]
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["locations"][0]["path"] == "bad-\u{fffd}-name.txt"));
}

#[test]
fn unreadable_input_is_reported_and_the_scan_goes_on() {
    let fx = Fixture::new();
    fx.write("good.txt", format!("{HF_TOKEN}\n"));
    #[cfg(unix)]
    std::os::unix::fs::symlink(fx.path().join("missing-target"), fx.path().join("dangling"))
        .unwrap();
    let run = fx.run(&[
        "scan",
        "-f",
        "json",
        "--follow-symlinks",
        ".",
        "does-not-exist",
    ]);
    // Findings take precedence over errors in the exit code.
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["path"] == "does-not-exist"),
        "{errors:?}"
    );
    #[cfg(unix)]
    assert!(
        errors
            .iter()
            .any(|e| e["path"].as_str().unwrap().contains("dangling")),
        "{errors:?}"
    );
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    assert!(run.stderr.contains("does-not-exist"), "{}", run.stderr);
}

#[test]
fn error_without_findings_exits_2() {
    let fx = Fixture::new();
    let run = fx.run(&["scan", "does-not-exist"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("does-not-exist: no such file or directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn symlinks_are_skipped_unless_followed() {
    let fx = Fixture::new();
    let outside = Fixture::new();
    outside.write("secret.txt", format!("{HF_TOKEN}\n"));
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        fx.path().join("link.txt"),
    )
    .unwrap();
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json()["summary"]["skipped"]["symlink"], 1);
    let run = fx.run(&["scan", "-f", "json", "--follow-symlinks"]);
    assert_eq!(run.code, 1);
}

#[test]
fn git_internals_are_skipped_gitignore_only_on_request() {
    let fx = Fixture::new();
    fx.write(
        ".git/config",
        format!("url = https://x:{}@github.com/o/r\n", github_token()),
    );
    fx.write(".gitignore", "secrets.env\n");
    fx.write("secrets.env", format!("HF_TOKEN={HF_TOKEN}\n"));
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    assert_eq!(report["findings"][0]["locations"][0]["path"], "secrets.env");
    let run = fx.run(&["scan", "-f", "json", "--respect-gitignore"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn excludes_skip_paths_and_names() {
    let fx = Fixture::new();
    fx.write("node_modules/pkg/index.js", format!("k='{HF_TOKEN}'\n"));
    fx.write("dist/app.min.js", format!("k='{HF_TOKEN}'\n"));
    fx.write("src/app.js", "nothing\n");
    let run = fx.run(&["scan", "--exclude", "node_modules", "--exclude", "*.min.js"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = fx.run(&["scan", "--exclude", "["]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid --exclude glob"),
        "{}",
        run.stderr
    );
}

#[test]
fn exit_codes() {
    let fx = Fixture::new();
    fx.write("clean.txt", "hello\n");
    assert_eq!(fx.run(&["scan", "-q"]).code, 0);
    fx.write("dirty.txt", format!("{HF_TOKEN}\n"));
    assert_eq!(fx.run(&["scan", "-q"]).code, 1);
    assert_eq!(fx.run(&["scan", "-q", "--exit-code", "42"]).code, 42);
    assert_eq!(fx.run(&["scan", "--min-confidence", "bogus"]).code, 2);
}

#[test]
fn quiet_prints_no_summary() {
    let fx = Fixture::new();
    fx.write("a.txt", "hello\n");
    let run = fx.run(&["scan", "-q"]);
    assert_eq!(run.stderr, "");
    let run = fx.run(&["scan"]);
    assert!(
        run.stderr.starts_with("leakhound: scanned 1 blobs"),
        "{}",
        run.stderr
    );
}

#[test]
fn single_thread_and_many_threads_agree() {
    let fx = Fixture::new();
    for i in 0..50 {
        fx.write(
            &format!("d{}/f{i}.txt", i % 7),
            format!("x{i}\ntoken={HF_TOKEN}\n"),
        );
    }
    let one = fx.run(&["scan", "-f", "json", "-j", "1"]).json();
    let many = fx.run(&["scan", "-f", "json", "-j", "4"]).json();
    assert_eq!(one["findings"], many["findings"]);
    assert_eq!(
        one["findings"][0]["locations"].as_array().unwrap().len(),
        50
    );
}

#[test]
fn parts_of_one_credential_are_reported_together() {
    let fx = Fixture::new();
    fx.write(
        "creds.ini",
        format!(
            "[default]\naws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = Zq3xL9vB2mN7kR4tY8wE1aS5dF6gH0jK/pQr+Uv7\n"
        ),
    );
    // Far apart: not a pair.
    fx.write(
        "far.txt",
        format!(
            "{AWS_KEY_ID}\n{}aws_secret_access_key = Yq3xL9vB2mN7kR4tY8wE1aS5dF6gH0jK/pQr+Uv8\n",
            "\n".repeat(40)
        ),
    );
    let report = fx.run(&["scan", "-f", "json", "creds.ini"]).json();
    let findings = report["findings"].as_array().unwrap();
    let id_of = |rule: &str| findings.iter().find(|f| f["rule_id"] == rule).unwrap();
    let key_id = id_of("aws-access-key-id");
    let secret = id_of("aws-secret-access-key");
    assert_eq!(key_id["related"][0]["id"], secret["id"]);
    assert_eq!(key_id["related"][0]["line"], 3);
    assert_eq!(secret["related"][0]["rule_id"], "aws-access-key-id");
    let report = fx.run(&["scan", "-f", "json", "far.txt"]).json();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f.get("related").is_none()));
    let run = fx.run(&["scan", "creds.ini"]);
    assert!(
        run.stdout
            .contains("pairs:   aws-secret-access-key at creds.ini:3"),
        "{}",
        run.stdout
    );
}
