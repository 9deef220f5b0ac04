//! Rule files: the built-in pack passes its own check; broken files fail clearly.

use leakhound::rules::{check_rules, RuleSet};

use crate::util::*;

/// The same checker as `leakhound rules check`, over the built-in pack.
#[test]
fn builtin_rules_pass_their_examples() {
    let rules = RuleSet::builtin().expect("built-in rules load");
    let failures = check_rules(&rules);
    let text: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
    assert!(
        failures.is_empty(),
        "rule check failures:\n{}",
        text.join("\n")
    );
}

#[test]
fn rules_check_command_passes_and_lists() {
    let fx = Fixture::new();
    let run = fx.run(&["rules", "check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("0 failed"));
    let run = fx.run(&["rules", "list"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.lines().count() >= 30);
    assert!(run.stdout.contains("huggingface-user-token"));
}

#[test]
fn rules_check_names_a_failing_rule() {
    let fx = Fixture::new();
    fx.write(
        "my-rules.yaml",
        r#"rules:
  - id: acme-key
    name: Acme key
    provider: acme
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{16})\b'
    confidence: high
    examples: ['acme_0123456789abcdex', 'acme_short']
    negative_examples: ['acme_zq8rt2zlp4xv9nbk']
"#,
    );
    let run = fx.run(&["rules", "check", "my-rules.yaml"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("my-rules.yaml:2: rule `acme-key`: example 2 is not found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("negative example 1 is found"),
        "{}",
        run.stderr
    );
}

#[test]
fn broken_rule_file_names_file_rule_and_line() {
    let fx = Fixture::new();
    fx.write(
        "bad.yaml",
        r#"rules:
  - id: good-one
    name: Good
    provider: acme
    keywords: [good_]
    pattern: '(good_[a-z]{8})'
    confidence: high
  - id: acme-broken
    name: Broken
    provider: acme
    keywords: [acme_]
    pattern: '(acme_[a-z'
    confidence: high
"#,
    );
    let run = fx.run(&["scan", "--rules", "bad.yaml", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("bad.yaml:8: rule `acme-broken`: invalid pattern"),
        "{}",
        run.stderr
    );

    fx.write("typo.yaml", "rules:\n  - id: acme-typo\n    name: T\n    provider: acme\n    keywords: [acme_]\n    pattern: '(x)'\n    confidance: high\n");
    let run = fx.run(&["scan", "--rules", "typo.yaml", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("typo.yaml:7: rule `acme-typo`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("confidance"), "{}", run.stderr);
}

#[test]
fn user_rules_extend_the_builtin_ones() {
    let fx = Fixture::new();
    fx.write(
        "rules/acme.yaml",
        r#"rules:
  - id: acme-key
    name: Acme key
    provider: acme
    keywords: [acme_]
    pattern: '\b(acme_[a-z0-9]{16})\b'
    confidence: high
"#,
    );
    fx.write("src/a.txt", format!("acme_zq8rt2zlp4xv9nbk\n{HF_TOKEN}\n"));
    let report = fx
        .run(&["scan", "-f", "json", "--rules", "rules", "src"])
        .json();
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme-key", "huggingface-user-token"]);
    let report = fx
        .run(&[
            "scan",
            "-f",
            "json",
            "--rules",
            "rules",
            "--no-builtin-rules",
            "src",
        ])
        .json();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    let run = fx.run(&[
        "scan",
        "--rules",
        "rules/acme.yaml",
        "--rules",
        "rules/acme.yaml",
        "src",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("duplicate rule id"), "{}", run.stderr);
}

/// The README's provider table is generated (`leakhound rules providers`), never edited by
/// hand: this fails when a rule is added without regenerating it.
#[test]
fn readme_provider_table_matches_the_rules() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- providers:start -->\n")
        .expect("start marker")
        + "<!-- providers:start -->\n".len();
    let end = readme.find("<!-- providers:end -->").expect("end marker");
    let generated = leakhound::rules::providers_markdown(&RuleSet::builtin().unwrap());
    assert_eq!(
        &readme[start..end],
        generated,
        "README provider table is stale: run `leakhound rules providers` and paste it between the markers"
    );
}
