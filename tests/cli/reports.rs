//! Report formats: human, JSON, JSONL, SARIF; masking in each.

use std::path::Path;

use crate::util::*;

fn fixture_with_secrets() -> Fixture {
    let fx = Fixture::new();
    fx.write(
        "app/settings.py",
        format!("HF_TOKEN = \"{HF_TOKEN}\"\nAWS = '{AWS_KEY_ID}'\n"),
    );
    fx.write(
        "deploy/my config.yaml",
        format!("github: {}\n", github_token()),
    );
    fx
}

#[test]
fn human_report_masks_secrets_by_default() {
    let fx = fixture_with_secrets();
    let run = fx.run(&["scan"]);
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains(HF_TOKEN), "{}", run.stdout);
    assert!(!run.stdout.contains(&github_token()));
    assert!(!run.stderr.contains(HF_TOKEN));
    assert!(run.stdout.contains("hf_KGp********"), "{}", run.stdout);
    assert!(
        run.stdout.contains("app/settings.py:1:13"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Hugging Face user access token"));
    // Not a terminal: no colour codes.
    assert!(!run.stdout.contains('\x1b'));
    let run = fx.run(&["scan", "--show-secrets", "--color", "always"]);
    assert!(run.stdout.contains(HF_TOKEN));
    assert!(run.stdout.contains('\x1b'));
}

#[test]
fn json_report_schema() {
    let fx = fixture_with_secrets();
    let report = fx.run(&["scan", "-f", "json"]).json();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], "leakhound");
    let summary = &report["summary"];
    for key in [
        "blobs_scanned",
        "bytes_scanned",
        "errors",
        "findings",
        "locations",
        "seconds",
    ] {
        assert!(summary.get(key).is_some(), "summary.{key} missing");
    }
    let finding = &report["findings"][0];
    for key in [
        "id",
        "rule_id",
        "rule_name",
        "provider",
        "confidence",
        "secret_masked",
        "entropy",
        "locations",
    ] {
        assert!(
            finding.get(key).is_some(),
            "finding.{key} missing: {finding}"
        );
    }
    assert!(
        finding.get("secret").is_none(),
        "secret must be absent without --show-secrets"
    );
    let location = &finding["locations"][0];
    for key in [
        "source",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "offset",
        "fingerprint",
        "snippet",
    ] {
        assert!(location.get(key).is_some(), "location.{key} missing");
    }
    let text = report.to_string();
    assert!(
        !text.contains(HF_TOKEN) && !text.contains(AWS_KEY_ID) && !text.contains(&github_token())
    );

    let report = fx.run(&["scan", "-f", "json", "--show-secrets"]).json();
    let secrets: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert!(secrets.contains(&HF_TOKEN));
}

#[test]
fn jsonl_has_one_finding_per_line() {
    let fx = fixture_with_secrets();
    let run = fx.run(&["scan", "-f", "jsonl"]);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines
        .iter()
        .all(|f| f["rule_id"].is_string() && f["locations"].is_array()));
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let fx = fixture_with_secrets();
    let run = fx.run(&["scan", "-f", "json", "-o", "report.json", "app", "deploy"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    let text = std::fs::read_to_string(fx.path().join("report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 3);
}

fn sarif_schema() -> serde_json::Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the official SARIF schema is read from {}: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let fx = fixture_with_secrets();
    fx.write("broken-link-target", "x");
    let run = fx.run(&["scan", "-f", "sarif", ".", "missing-path"]);
    assert_eq!(run.code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let validator = jsonschema::validator_for(&sarif_schema()).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid: {errors:#?}");

    let run_object = &sarif["runs"][0];
    let results = run_object["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let rules = run_object["tool"]["driver"]["rules"].as_array().unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(result["partialFingerprints"]["leakhound/v1"].is_string());
    }
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"deploy/my%20config.yaml"), "{uris:?}");
    assert!(!run.stdout.contains(HF_TOKEN));
    // The unreadable input is carried as a notification.
    let notes = &run_object["invocations"][0]["toolExecutionNotifications"];
    assert!(notes.to_string().contains("missing-path"));
}

#[test]
fn sarif_with_no_findings_is_valid_too() {
    let fx = Fixture::new();
    fx.write("a.txt", "clean\n");
    let run = fx.run(&["scan", "-f", "sarif"]);
    assert_eq!(run.code, 0);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let validator = jsonschema::validator_for(&sarif_schema()).unwrap();
    assert!(validator.is_valid(&sarif));
}
