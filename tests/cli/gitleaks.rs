//! gitleaks / Betterleaks compatibility: TOML configs (rules, allowlists, auto-detection,
//! not-honoured fields), `rules import-gitleaks`, `--format gitleaks-json` and `--format csv`.
//! The expected results are what gitleaks' documentation and `detect.go` give for the config.

use std::{collections::BTreeSet, path::Path, process::Command};

use serde_json::Value;

use crate::util::*;

/// Custom rules with secretGroup (unset and set), entropy, keywords (and none), path, tags;
/// global and per-rule allowlists with every regexTarget, stopwords, paths and AND.
const CONFIG: &str = r#"
title = "fixture"

[[allowlists]]
description = "vendored code"
paths = ['''(^|/)vendor/''']

[[allowlists]]
description = "test keys, in fixtures only"
condition = "AND"
targetRules = ["acme-key"]
paths = ['''^fixtures/''']
regexes = ['''^ak_test''']

[[rules]]
id = "acme-key"
description = "Acme API key"
regex = '''acme_key\s*=\s*"(ak_[a-z0-9_]{20,})"'''
keywords = ["acme_key"]
entropy = 3.0
tags = ["acme", "key"]

  [[rules.allowlists]]
  regexTarget = "line"
  regexes = ['''#\s*not-a-secret''']

  [[rules.allowlists]]
  stopwords = ["sandbox"]

[[rules]]
id = "zed-token"
description = "Zed token"
regex = '''(?:zed|ZED)[_-](?:live-([0-9A-Z]{20})|old-([0-9A-Z]{16}))'''
keywords = ["zed"]
path = '''\.env$'''

  [[rules.allowlists]]
  regexTarget = "match"
  regexes = ['''^ZED_''']

[[rules]]
id = "bare-id"
description = "Bare id: no keywords, no capture group"
regex = '''QX[0-9]{2}-[A-Z]{4}-[0-9]{4}'''

[[rules]]
id = "pair"
description = "Second half of a pair"
regex = '''pair:([a-z0-9]{12}):([a-z0-9]{12})'''
secretGroup = 2
keywords = ["pair:"]
"#;

const ACME_LIVE: &str = "ak_q8w7e6r5t4y3u2i1o0p9a8";
const ACME_TEST_SRC: &str = "ak_test_z9x8c7v6b5n4m3l2k1";

fn write_fixture(fx: &Fixture, dir: &str) {
    let at = |path: &str| format!("{dir}{path}");
    fx.write(
        &at("app.py"),
        format!(
            "acme_key = \"{ACME_LIVE}\"\n\
             acme_key = \"ak_z9x8c7v6b5n4m3l2k1j0h9\"  # not-a-secret\n\
             acme_key = \"ak_sandbox_m3l2k1j0h9g8f7\"\n\
             acme_key = \"ak_abababababababababab\"\n"
        ),
    );
    fx.write(
        &at("fixtures/test.py"),
        "acme_key = \"ak_test_q8w7e6r5t4y3u2i1o0\"\n",
    );
    fx.write(
        &at("src/test.py"),
        format!("acme_key = \"{ACME_TEST_SRC}\"\n"),
    );
    fx.write(
        &at("vendor/lib.py"),
        format!("acme_key = \"{ACME_LIVE}\"\n"),
    );
    fx.write(
        &at("prod.env"),
        "NEW=zed-live-Q8W7E6R5T4Y3U2I1O0P9\nOLD=zed-old-K3J5H7G9F2D4S6A8\n\
         ALT=ZED_live-R4T6Y8U1I3O5P7A9S2D4\n",
    );
    fx.write(&at("notes.txt"), "NEW=zed-live-Q8W7E6R5T4Y3U2I1O0P9\n");
    fx.write(&at("ids.txt"), "id QX42-KBZW-7391\n");
    fx.write(&at("pair.txt"), "pair:abc123def456:q9w8e7r6t5y4\n");
}

/// (rule, secret, path) of every location in a JSON report.
fn results(report: &Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for finding in report["findings"].as_array().unwrap() {
        for location in finding["locations"].as_array().unwrap() {
            let path = location["path"].as_str().unwrap();
            out.insert((
                finding["rule_id"].as_str().unwrap().to_string(),
                finding["secret"].as_str().unwrap().to_string(),
                path.trim_start_matches("./").to_string(),
            ));
        }
    }
    out
}

fn expected() -> BTreeSet<(String, String, String)> {
    [
        ("acme-key", ACME_LIVE, "app.py"),
        ("acme-key", ACME_TEST_SRC, "src/test.py"),
        ("zed-token", "Q8W7E6R5T4Y3U2I1O0P9", "prod.env"),
        ("zed-token", "K3J5H7G9F2D4S6A8", "prod.env"),
        ("bare-id", "QX42-KBZW-7391", "ids.txt"),
        ("pair", "q9w8e7r6t5y4", "pair.txt"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect()
}

#[test]
fn gitleaks_config_rules_and_allowlists_give_gitleaks_results() {
    let fx = Fixture::new();
    write_fixture(&fx, "");
    fx.write(".gitleaks.toml", CONFIG);
    let run = fx.run(&["scan", "--show-secrets", "-f", "json", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(results(&run.json()), expected(), "{}", run.stderr);
    // Said on stderr: which file, what it did, that the built-in rules were replaced.
    assert!(
        run.stderr
            .contains("gitleaks config ./.gitleaks.toml: 4 rules"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("replace the"), "{}", run.stderr);
    // The allowlists did the work: 4 acme + 1 vendored + 1 zed match-target.
    assert!(run.stderr.contains("allowlist"), "{}", run.stderr);
    // --no-config skips auto-detection: the built-in rules find none of these formats.
    let run = fx.run(&["scan", "--no-config", "-f", "json", "."]);
    assert!(!run.stdout.contains("acme-key"));
    // Explicit --gitleaks-config works from anywhere.
    fx.write("elsewhere/my.toml", CONFIG);
    let run = fx.run(&[
        "scan",
        "--no-config",
        "--gitleaks-config",
        "elsewhere/my.toml",
        "--show-secrets",
        "-f",
        "json",
        ".",
    ]);
    let mut want = expected();
    // The self-skip covers only the auto-detected file; elsewhere/my.toml holds no secrets.
    assert_eq!(
        results(&run.json()),
        std::mem::take(&mut want).into_iter().collect()
    );
}

#[test]
fn gitleaks_use_default_keeps_builtin_rules() {
    let fx = Fixture::new();
    fx.write(
        ".gitleaks.toml",
        format!("[extend]\nuseDefault = true\ndisabledRules = [\"generic-api-key\"]\n{CONFIG}"),
    );
    fx.write("hf.py", format!("HF_TOKEN = \"{HF_TOKEN}\"\n"));
    fx.write("app.py", format!("acme_key = \"{ACME_LIVE}\"\n"));
    let run = fx.run(&["scan", "-f", "json", "."]);
    let report = run.json();
    let rules: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains("acme-key") && rules.contains("huggingface-user-token"),
        "{rules:?}"
    );
    // gitleaks' default rule ids are not ours: said, not an error.
    assert!(
        run.stderr
            .contains("disabledRules: no rule `generic-api-key`"),
        "{}",
        run.stderr
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Alice Example")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-02T10:00:00+01:00")
        .env("GIT_COMMITTER_NAME", "Alice Example")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_DATE", "2024-01-02T10:00:00+01:00")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn gitleaks_allowlisted_commits_in_a_real_repository() {
    let fx = Fixture::new();
    let dir = fx.path();
    git(dir, &["init", "-q", "-b", "main"]);
    fx.write("a.py", format!("acme_key = \"{ACME_LIVE}\"\n"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "first"]);
    let first = git(dir, &["rev-parse", "HEAD"]);
    fx.write("b.py", format!("acme_key = \"{ACME_TEST_SRC}\"\n"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "second"]);
    let config = format!("{CONFIG}\n[[allowlists]]\ncommits = [\"{first}\"]\n");
    fx.write("../gl-commits.toml", &config);
    let config_path = dir.parent().unwrap().join("gl-commits.toml");
    let run = fx.run(&[
        "scan",
        "--no-config",
        "--gitleaks-config",
        config_path.to_str().unwrap(),
        "--show-secrets",
        "-f",
        "gitleaks-json",
        ".",
    ]);
    let report = run.json();
    let entries = report.as_array().unwrap();
    let secrets: Vec<&str> = entries
        .iter()
        .map(|e| e["Secret"].as_str().unwrap())
        .collect();
    // The secret introduced by the allowlisted commit is gone; the other one stays, with its
    // commit and a gitleaks fingerprint that starts with it.
    assert!(!secrets.contains(&ACME_LIVE), "{}", run.stdout);
    let second = entries
        .iter()
        .find(|e| e["Secret"] == ACME_TEST_SRC && e["Commit"] != "")
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(second["Author"], "Alice Example");
    assert_eq!(second["Email"], "alice@example.com");
    assert_eq!(second["Message"], "second");
    let commit = second["Commit"].as_str().unwrap();
    assert_eq!(second["Fingerprint"], format!("{commit}:b.py:acme-key:1"));
}

#[test]
fn gitleaks_not_honoured_fields_are_reported() {
    let fx = Fixture::new();
    fx.write(
        ".betterleaks.toml",
        r#"
prefilter = "size < 1000"

[extend]
url = "https://example.com/base.toml"

[[rules]]
id = "acme-key"
regex = '''acme_key\s*=\s*"(ak_[a-z0-9_]{20,})"'''
keywords = ["acme_key"]
validate = "http.get('https://api.example.com')"
filter = "secret.size() > 3"
sparkle = true

  [[rules.required]]
  id = "other"

[[rules]]
id = "pem-files"
path = '''\.pem$'''
"#,
    );
    fx.write("app.py", format!("acme_key = \"{ACME_LIVE}\"\n"));
    let run = fx.run(&["scan", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("gitleaks config ./.betterleaks.toml"),
        "{}",
        run.stderr
    );
    for expected in [
        "top level: `prefilter` not honoured",
        "[extend]: `url` not honoured",
        "rule `acme-key`: `validate` not honoured",
        "rule `acme-key`: `filter` not honoured",
        "rule `acme-key`: `required` not honoured",
        "rule `acme-key`: unknown key `sparkle` not honoured",
        "rule `pem-files`: path-only rule",
    ] {
        assert!(
            run.stderr.contains(expected),
            "missing `{expected}`:\n{}",
            run.stderr
        );
    }
}

#[test]
fn gitleaks_bad_configs_are_errors() {
    let fx = Fixture::new();
    fx.write("app.py", "x\n");
    fx.write(
        ".gitleaks.toml",
        "[[rules]]\nid = \"a\"\nregex = '''(unclosed'''\n",
    );
    let run = fx.run(&["scan", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("rule `a`: invalid regex"),
        "{}",
        run.stderr
    );
    fx.write(".gitleaks.toml", "[[rules]]\nid = \"a\"\nregex = = 'x'\n");
    let run = fx.run(&["scan", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(".gitleaks.toml:3"), "{}", run.stderr);
}

#[test]
fn gitleaks_import_writes_rules_that_find_the_same_things() {
    let fx = Fixture::new();
    // Files no allowlist touches: the YAML carries rules, not allowlists.
    fx.write("config.toml", CONFIG);
    for (path, text) in [
        ("clean/app.py", format!("acme_key = \"{ACME_LIVE}\"\n")),
        (
            "clean/src/test.py",
            format!("acme_key = \"{ACME_TEST_SRC}\"\n"),
        ),
        (
            "clean/prod.env",
            "NEW=zed-live-Q8W7E6R5T4Y3U2I1O0P9\nOLD=zed-old-K3J5H7G9F2D4S6A8\n".into(),
        ),
        (
            "clean/notes.txt",
            "NEW=zed-live-Q8W7E6R5T4Y3U2I1O0P9\n".into(),
        ),
        ("clean/ids.txt", "id QX42-KBZW-7391\n".into()),
        ("clean/pair.txt", "pair:abc123def456:q9w8e7r6t5y4\n".into()),
    ] {
        fx.write(path, text);
    }
    let run = fx.run(&[
        "rules",
        "import-gitleaks",
        "config.toml",
        "-o",
        "imported.yaml",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let yaml = std::fs::read_to_string(fx.path().join("imported.yaml")).unwrap();
    assert!(yaml.contains("# origin: config.toml:"), "{yaml}");
    assert!(yaml.contains("# allowlists:"), "{yaml}");
    // `rules check` loads it (fields, patterns, groups all valid); what it still wants is
    // the examples gitleaks configs do not carry.
    let run = fx.run(&["rules", "check", "imported.yaml"]);
    for line in run.stderr.lines().filter(|l| l.starts_with("FAIL")) {
        assert!(line.contains("examples"), "{}", run.stderr);
    }
    assert!(run.stderr.contains("4 rules checked"), "{}", run.stderr);
    let direct = fx.run(&[
        "scan",
        "--no-config",
        "--gitleaks-config",
        "config.toml",
        "--show-secrets",
        "-f",
        "json",
        "clean",
    ]);
    let imported = fx.run(&[
        "scan",
        "--no-config",
        "--no-builtin-rules",
        "--rules",
        "imported.yaml",
        "--show-secrets",
        "-f",
        "json",
        "clean",
    ]);
    let direct = results(&direct.json());
    assert_eq!(direct.len(), 6, "{direct:?}");
    assert_eq!(direct, results(&imported.json()));
}

#[test]
fn gitleaks_json_shape_and_gitleaksignore_round_trip() {
    let fx = Fixture::new();
    fx.write("app/settings.py", format!("\nHF_TOKEN = \"{HF_TOKEN}\"\n"));
    let run = fx.run(&["scan", "-f", "gitleaks-json", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let entry = &report.as_array().unwrap()[0];
    let fields: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "RuleID",
        "Description",
        "StartLine",
        "EndLine",
        "StartColumn",
        "EndColumn",
        "Match",
        "Secret",
        "File",
        "SymlinkFile",
        "Commit",
        "Entropy",
        "Author",
        "Email",
        "Date",
        "Message",
        "Tags",
        "Fingerprint",
    ] {
        assert!(fields.contains(&key), "{key} missing: {entry}");
    }
    assert!(entry["StartLine"].is_u64() && entry["Entropy"].is_f64() && entry["Tags"].is_array());
    assert_eq!(entry["StartLine"], 2);
    assert_eq!(entry["File"], "app/settings.py");
    assert!(!run.stdout.contains(HF_TOKEN), "secret must be masked");
    assert!(
        entry["Match"].as_str().unwrap().contains("hf_KGp********"),
        "{entry}"
    );
    let fingerprint = entry["Fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint, "app/settings.py:huggingface-user-token:2");
    let shown = fx
        .run(&["scan", "-f", "gitleaks-json", "--show-secrets", "."])
        .json();
    assert_eq!(shown[0]["Secret"], HF_TOKEN);
    // Round trip: the fingerprint in .gitleaksignore silences exactly that finding.
    fx.write(".gitleaksignore", format!("{fingerprint}\n"));
    let run = fx.run(&["scan", "-f", "gitleaks-json", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "[]");
}

/// A minimal RFC 4180 reader, to check the writer against.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn gitleaks_csv_report_parses() {
    let fx = Fixture::new();
    fx.write("deploy/a,b \"c\".txt", format!("token: {HF_TOKEN}\n"));
    let run = fx.run(&["scan", "-f", "csv", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("\r\n"));
    let rows = parse_csv(&run.stdout);
    assert_eq!(
        rows[0],
        [
            "rule_id",
            "provider",
            "confidence",
            "path",
            "line",
            "column",
            "commit",
            "author",
            "date",
            "secret",
            "fingerprint"
        ]
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let row = &rows[1];
    assert_eq!(row[0], "huggingface-user-token");
    assert!(row[3].ends_with("deploy/a,b \"c\".txt"), "{row:?}");
    assert_eq!((row[4].as_str(), row[5].as_str()), ("1", "8"));
    assert_eq!(row[9], "hf_KGp********");
    assert_eq!(row[10].len(), 32);
}
