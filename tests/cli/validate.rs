//! Live validation against fake providers on 127.0.0.1, reached through
//! `LEAKHOUND_TEST_ENDPOINTS`: every outcome, the cache, rate limits, Retry-After, redirects,
//! the loopback-only override, `validate`, `revoke`, `rules endpoints` and user-rule validators.

use std::{sync::Arc, thread, time::Duration};

use serde_json::{json, Value};

use crate::{
    hub::http::{Request, Response, Server},
    util::*,
};

/// A synthetic Hugging Face token: `hf_` + 34 letters from a seeded generator (random-looking,
/// never a real credential).
fn hf_token(seed: u64) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let body: String = (0..34)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            letters[(state >> 33) as usize % letters.len()] as char
        })
        .collect();
    format!("hf_{body}")
}

/// Runs leakhound with a clean environment plus `env`, and optional stdin.
fn run_env(fx: &Fixture, args: &[&str], env: &[(&str, String)], stdin: Option<&str>) -> Run {
    fx.run_with_env(args, env, stdin.map(str::as_bytes))
}

/// `LEAKHOUND_TEST_ENDPOINTS` for `host` → `server`.
fn endpoints(pairs: &[(&str, &Server)]) -> (&'static str, String) {
    let map: Vec<String> = pairs
        .iter()
        .map(|(host, server)| format!("{host}={}", server.url()))
        .collect();
    ("LEAKHOUND_TEST_ENDPOINTS", map.join(","))
}

fn server(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
    Server::start(Arc::new(handler))
}

/// A whoami-v2 fake: `live` is the one live token, anything else gets 401.
fn whoami(live: String) -> Server {
    server(move |request| {
        if request.header("authorization") == Some(&format!("Bearer {live}")) {
            Response::json(&json!({
                "name": "alice", "type": "user", "email": "alice@example.org",
                "orgs": [{"name": "acme", "roleInOrg": "admin"}],
                "auth": {"type": "access_token", "accessToken": {"displayName": "ci", "role": "fineGrained",
                    "fineGrained": {"global": ["discussion.write"],
                        "scoped": [{"entity": {"type": "model", "name": "acme/m"}, "permissions": ["repo.content.read"]}]}}},
            }))
        } else {
            Response::json(&json!({"error": "Invalid credentials in Authorization header"}))
                .status(401)
        }
    })
}

trait Status {
    fn status(self, status: u16) -> Self;
}

impl Status for Response {
    fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

fn validation_of<'a>(report: &'a Value, secret_prefix: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["secret_masked"]
                .as_str()
                .unwrap()
                .starts_with(secret_prefix)
        })
        .unwrap_or_else(|| panic!("no finding for {secret_prefix}: {report}"))
        .get("validation")
        .expect("validation object")
}

#[test]
fn live_with_metadata_and_dead() {
    let (live, dead) = (hf_token(1), hf_token(2));
    let hub = whoami(live.clone());
    let fx = Fixture::new();
    fx.write("a.env", format!("HF_TOKEN={live}\nOTHER={dead}\n"));
    let run = run_env(
        &fx,
        &["scan", "--validate", "-f", "json", "."],
        &[endpoints(&[("huggingface.co", &hub)])],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let v = validation_of(&report, &live[..6]);
    assert_eq!(v["outcome"], "live");
    assert_eq!(v["metadata"]["user"], "alice");
    assert_eq!(v["metadata"]["orgs"], json!(["acme"]));
    assert_eq!(v["metadata"]["org_roles"], json!(["admin"]));
    assert_eq!(v["metadata"]["token_role"], "fineGrained");
    assert_eq!(v["metadata"]["scoped_entities"], json!(["acme/m"]));
    assert_eq!(
        v["metadata"]["scoped_permissions"],
        json!(["repo.content.read"])
    );
    assert!(v["checked_at"].as_str().unwrap().ends_with('Z'));
    let d = validation_of(&report, &dead[..6]);
    assert_eq!(d["outcome"], "dead");
    assert_eq!(d["reason"], "HTTP 401");
    assert!(run.stderr.contains("LEAKHOUND_TEST_ENDPOINTS is set"));
    assert!(
        run.stderr.contains(
            "validation: 1 live, 1 dead, 0 unknown, 0 unverifiable (2 unique secrets, 2 requests)"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains(&live) && !run.stderr.contains(&live));
    // The token went out as the rule declared it.
    let requests = hub.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.path() == "/api/whoami-v2"));
}

#[test]
fn every_format_carries_the_outcome() {
    let live = hf_token(3);
    let hub = whoami(live.clone());
    let fx = Fixture::new();
    fx.write("a.env", format!("HF_TOKEN={live}\n"));
    let env = [endpoints(&[("huggingface.co", &hub)])];
    let human = run_env(&fx, &["scan", "--validate", "."], &env, None);
    assert!(
        human.stdout.contains("status:  live (") && human.stdout.contains("user: alice"),
        "{}",
        human.stdout
    );
    let jsonl = run_env(&fx, &["scan", "--validate", "-f", "jsonl", "."], &env, None);
    let line: Value = serde_json::from_str(jsonl.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(line["validation"]["outcome"], "live");
    let sarif = run_env(&fx, &["scan", "--validate", "-f", "sarif", "."], &env, None);
    let doc: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let properties = &doc["runs"][0]["results"][0]["properties"];
    assert_eq!(properties["validation"]["outcome"], "live");
    assert_eq!(properties["validation"]["metadata"]["user"], "alice");
    // Without --validate nothing is sent and no validation appears.
    let before = hub.requests().len();
    let plain = run_env(&fx, &["scan", "-f", "json", "."], &env, None);
    assert!(plain.json()["findings"][0].get("validation").is_none());
    assert_eq!(hub.requests().len(), before);
}

#[test]
fn unknown_for_429_5xx_timeout_and_html_pages() {
    let (limited, broken, slow) = (hf_token(10), hf_token(11), hf_token(12));
    let (l, b, s) = (limited.clone(), broken.clone(), slow.clone());
    let hub = server(move |request| {
        let auth = request
            .header("authorization")
            .unwrap_or_default()
            .to_string();
        if auth.ends_with(&l) {
            Response::new(429).header("Retry-After", "0")
        } else if auth.ends_with(&b) {
            Response::json(&json!({"error": "boom"})).status(503)
        } else {
            assert!(auth.ends_with(&s));
            thread::sleep(Duration::from_secs(3));
            Response::json(&json!({"name": "late"}))
        }
    });
    // Google AI answers 403 for a valid key without the API: a firewall's HTML 403 must not
    // count as live.
    let google_key = "AIzahOkvpsGl_g3WP0LnjZn1L64dWVyxHwrwClO";
    let firewall = server(|_| {
        Response::new(403)
            .header("Content-Type", "text/html")
            .body(b"<html><body>Access denied by firewall</body></html>".to_vec())
    });
    let fx = Fixture::new();
    fx.write(
        "a.env",
        format!("A={limited}\nB={broken}\nC={slow}\nGOOGLE_API_KEY={google_key}\n"),
    );
    let run = run_env(
        &fx,
        &[
            "scan",
            "--validate",
            "--validate-retries",
            "1",
            "--validate-timeout",
            "1",
            "-f",
            "json",
            ".",
        ],
        &[endpoints(&[
            ("huggingface.co", &hub),
            ("generativelanguage.googleapis.com", &firewall),
        ])],
        None,
    );
    let report = run.json();
    let reason = |prefix: &str| {
        let v = validation_of(&report, prefix);
        assert_eq!(v["outcome"], "unknown", "{v}");
        v["reason"].as_str().unwrap().to_string()
    };
    assert!(reason(&limited[..6]).contains("429"));
    assert!(reason(&broken[..6]).contains("503"));
    assert!(reason(&slow[..6]).contains("timed out"));
    assert!(reason(&google_key[..6]).contains("HTML"));
    let limited_requests = hub
        .requests()
        .iter()
        .filter(|r| r.header("authorization").unwrap().ends_with(&limited))
        .count();
    assert_eq!(limited_requests, 2, "one try plus --validate-retries 1");
    assert!(
        run.stderr.contains("0 live, 0 dead, 4 unknown"),
        "{}",
        run.stderr
    );
}

#[test]
fn unverifiable_and_only_live() {
    let (live, dead) = (hf_token(20), hf_token(21));
    let hub = whoami(live.clone());
    let fx = Fixture::new();
    fx.write(
        "a.env",
        format!(
            "HF_TOKEN={live}\nOLD={dead}\nSTRIPE_WEBHOOK_SECRET=whsec_Jq8vT2pLx9RmZ4kWc7NbY3sHd6FgA1eU\n"
        ),
    );
    fx.write(
        "id_rsa",
        "-----BEGIN RSA PRIVATE KEY-----\nls1yqHsLTLEt0CUMCZEd0Zdwtja7VLzgNJSkrzXXOkHwVbWTmvywS0XD7tfe5g3v\nFg6YUCEHBGemk+X4v1+I9YaqwbZlp334Zt4CYrSgwyIrXIWyI4dKn1KZ6YQ9qJzZ\n-----END RSA PRIVATE KEY-----\n",
    );
    let env = [endpoints(&[("huggingface.co", &hub)])];
    let all = run_env(&fx, &["scan", "--validate", "-f", "json", "."], &env, None);
    let report = all.json();
    let key = validation_of(&report, "-----B");
    assert_eq!(key["outcome"], "unverifiable");
    assert_eq!(key["reason"], "no validator for this rule");
    assert!(key.get("checked_at").is_none());

    let only = run_env(&fx, &["scan", "--only-live", "-f", "json", "."], &env, None);
    let outcomes: Vec<String> = only.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["rule_id"], f["validation"]["outcome"]))
        .collect();
    assert!(
        outcomes.contains(&"\"huggingface-user-token\" \"live\"".to_string()),
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|o| o.contains("private-key") && o.ends_with("\"unverifiable\"")),
        "{outcomes:?}"
    );
    assert!(!outcomes.iter().any(|o| o.contains("dead")), "{outcomes:?}");
    assert!(only.stderr.contains("--only-live kept"), "{}", only.stderr);

    let strict = run_env(
        &fx,
        &["scan", "--only-live", "--strict", "-f", "json", "."],
        &env,
        None,
    );
    let findings = strict.json()["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["validation"]["outcome"], "live");
}

#[test]
fn a_secret_found_100_times_costs_one_request() {
    let live = hf_token(30);
    let hub = whoami(live.clone());
    let fx = Fixture::new();
    for i in 0..100 {
        fx.write(&format!("copies/f{i}.env"), format!("HF_TOKEN={live}\n"));
    }
    let run = run_env(
        &fx,
        &["scan", "--validate", "-f", "json", "."],
        &[endpoints(&[("huggingface.co", &hub)])],
        None,
    );
    let report = run.json();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    assert_eq!(
        report["findings"][0]["locations"].as_array().unwrap().len(),
        100
    );
    assert_eq!(
        hub.requests().len(),
        1,
        "one request per unique (rule, secret)"
    );
    assert!(
        run.stderr.contains("(1 unique secrets, 1 requests)"),
        "{}",
        run.stderr
    );
}

#[test]
fn requests_to_a_provider_are_spaced_by_the_rate_limit() {
    let tokens: Vec<String> = (40..45).map(hf_token).collect();
    let hub = whoami(tokens[0].clone());
    let fx = Fixture::new();
    let text: String = tokens.iter().map(|t| format!("T={t}\n")).collect();
    fx.write("a.env", text);
    let run = run_env(
        &fx,
        &[
            "scan",
            "--validate",
            "--validate-rps",
            "4",
            "--validate-concurrency",
            "4",
            "-q",
            ".",
        ],
        &[endpoints(&[("huggingface.co", &hub)])],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut times: Vec<_> = hub.requests().iter().map(|r| r.at).collect();
    times.sort();
    assert_eq!(times.len(), 5);
    // 4 per second: starts 250 ms apart (generous margin for a busy machine).
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(200), "gap {gap:?}");
    }
    assert!(times[4] - times[0] >= Duration::from_millis(900));
}

#[test]
fn retry_after_is_honoured_then_succeeds() {
    let live = hf_token(50);
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (token, count) = (live.clone(), seen.clone());
    let hub = server(move |request| {
        if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            return Response::new(429).header("Retry-After", "1");
        }
        assert_eq!(
            request.header("authorization"),
            Some(&*format!("Bearer {token}"))
        );
        Response::json(&json!({"name": "alice"}))
    });
    let fx = Fixture::new();
    fx.write("a.env", format!("HF_TOKEN={live}\n"));
    let run = run_env(
        &fx,
        &["scan", "--validate", "-f", "json", "."],
        &[endpoints(&[("huggingface.co", &hub)])],
        None,
    );
    let report = run.json();
    assert_eq!(validation_of(&report, &live[..6])["outcome"], "live");
    let requests = hub.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(950));
}

#[test]
fn a_redirect_is_not_followed() {
    let live = hf_token(60);
    let thief = server(|_| Response::json(&json!({"name": "stolen"})));
    let target = format!("{}/steal?x=1", thief.url());
    let hub = server(move |_| Response::new(302).header("Location", target.clone()));
    let fx = Fixture::new();
    fx.write("a.env", format!("HF_TOKEN={live}\n"));
    let run = run_env(
        &fx,
        &["scan", "--validate", "-f", "json", "."],
        &[endpoints(&[("huggingface.co", &hub)])],
        None,
    );
    let report = run.json();
    let v = validation_of(&report, &live[..6]);
    assert_eq!(v["outcome"], "unknown");
    assert!(v["reason"].as_str().unwrap().contains("redirect"), "{v}");
    assert!(!v["reason"].as_str().unwrap().contains("x=1"));
    assert!(
        thief.requests().is_empty(),
        "the secret never reached the other host"
    );
}

#[test]
fn the_override_accepts_only_loopback() {
    let fx = Fixture::new();
    fx.write("a.env", format!("HF_TOKEN={}\n", hf_token(70)));
    for bad in [
        "huggingface.co=http://10.1.2.3:80",
        "huggingface.co=https://example.com",
    ] {
        let run = run_env(
            &fx,
            &["scan", "--validate", "."],
            &[("LEAKHOUND_TEST_ENDPOINTS", bad.to_string())],
            None,
        );
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("not a loopback URL"), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "refused before any scan");
    }
}

#[test]
fn validate_a_json_report_and_raw_tokens() {
    let (live, dead) = (hf_token(80), hf_token(81));
    let hub = whoami(live.clone());
    let fx = Fixture::new();
    fx.write("a.env", format!("HF_TOKEN={live}\nX={dead}\n"));
    let env = [endpoints(&[("huggingface.co", &hub)])];
    let scan = run_env(
        &fx,
        &[
            "scan",
            "-f",
            "json",
            "--show-secrets",
            "-o",
            "clear.json",
            ".",
        ],
        &env,
        None,
    );
    assert_eq!(scan.code, 1);
    assert!(hub.requests().is_empty());
    let run = run_env(&fx, &["validate", "-f", "json", "clear.json"], &env, None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(validation_of(&report, &live[..6])["outcome"], "live");
    assert_eq!(validation_of(&report, &dead[..6])["outcome"], "dead");
    assert_eq!(report["findings"][0]["locations"][0]["path"], "a.env");
    assert!(!run.stdout.contains(&live), "masked unless --show-secrets");
    // A masked report cannot be validated.
    run_env(
        &fx,
        &["scan", "-f", "jsonl", "-o", "masked.jsonl", "."],
        &env,
        None,
    );
    let masked = run_env(&fx, &["validate", "masked.jsonl"], &env, None);
    assert_eq!(masked.code, 2);
    assert!(
        masked.stderr.contains("--show-secrets"),
        "{}",
        masked.stderr
    );
    // Raw tokens on stdin, duplicates included: one request per unique token.
    let before = hub.requests().len();
    let stdin = format!("{live}\n{live}\n{dead}\nnot a token\n");
    let raw = run_env(
        &fx,
        &["validate", "--only-live", "-f", "json", "-"],
        &env,
        Some(&stdin),
    );
    let findings = raw.json()["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule_id"], "huggingface-user-token");
    assert_eq!(findings[0]["validation"]["outcome"], "live");
    assert_eq!(findings[0]["locations"].as_array().unwrap().len(), 2);
    assert_eq!(hub.requests().len() - before, 2);
}

#[test]
fn rules_endpoints_lists_every_host() {
    let fx = Fixture::new();
    let run = fx.run(&["rules", "endpoints"]);
    assert_eq!(run.code, 0);
    for (host, rule) in [
        ("huggingface.co", "huggingface-user-token"),
        ("api.github.com", "github-personal-access-token"),
        ("slack.com", "slack-bot-token"),
        ("api.anthropic.com", "anthropic-api-key"),
        ("sts.amazonaws.com", "aws-secret-access-key"),
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(host) && l.contains(rule)),
            "{host} {rule}:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("revoke"));
    assert!(run.stdout.lines().all(|l| !l.contains("http://")));
}

#[test]
fn revoke_submits_hf_tokens_after_yes() {
    let hub = server(|_| Response::new(202));
    let fx = Fixture::new();
    let tokens: Vec<String> = (90..93).map(hf_token).collect();
    let list = format!(
        "{}\n{}\n{}\n{}\nghp_notatoken\n",
        tokens[0], tokens[1], tokens[2], tokens[0]
    );
    fx.write("leaked.txt", &list);
    let env = [endpoints(&[("huggingface.co", &hub)])];
    let refused = run_env(
        &fx,
        &["revoke", "--provider", "huggingface", "leaked.txt"],
        &env,
        None,
    );
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(hub.requests().is_empty());

    let run = run_env(
        &fx,
        &[
            "revoke",
            "--provider",
            "huggingface",
            "--yes",
            "--batch-size",
            "2",
            "leaked.txt",
        ],
        &env,
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests = hub.requests();
    assert_eq!(requests.len(), 2, "3 unique tokens in batches of 2");
    assert!(requests
        .iter()
        .all(|r| r.method == "POST" && r.path() == "/api/credentials/revoke"));
    let mut sent = Vec::new();
    for request in &requests {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        sent.extend(
            body["credentials"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string()),
        );
    }
    assert_eq!(sent, tokens);
    assert_eq!(run.stdout.lines().count(), 3);
    assert!(run
        .stdout
        .lines()
        .all(|l| l.contains("submitted for revocation (HTTP 202)")));
    assert!(
        tokens.iter().all(|t| !run.stdout.contains(t.as_str())),
        "masked"
    );
}

#[test]
fn user_rule_validators_need_the_flag() {
    let api = server(|request| {
        if request.header("x-key") == Some("acme_Jq8vT2pLx9RmZ4kW") {
            Response::json(&json!({"account": "acme-prod"}))
        } else {
            Response::new(401)
        }
    });
    let fx = Fixture::new();
    fx.write(
        "acme.yaml",
        r#"rules:
  - id: acme-key
    name: Acme key
    provider: acme
    keywords: [acme_]
    pattern: '\b(acme_[A-Za-z0-9]{16})\b'
    confidence: high
    validate:
      url: https://api.acme.test/v1/me
      headers: {X-Key: '{secret}'}
      metadata: {account: account}
"#,
    );
    fx.write("a.env", "KEY=acme_Jq8vT2pLx9RmZ4kW\n");
    let env = [endpoints(&[("api.acme.test", &api)])];
    let refused = run_env(
        &fx,
        &[
            "scan",
            "--rules",
            "acme.yaml",
            "--validate",
            "-f",
            "json",
            "a.env",
        ],
        &env,
        None,
    );
    let report = refused.json();
    assert_eq!(
        report["findings"][0]["validation"]["outcome"],
        "unverifiable"
    );
    assert!(
        refused.stderr.contains("--allow-rule-validators"),
        "{}",
        refused.stderr
    );
    assert!(api.requests().is_empty());

    let allowed = run_env(
        &fx,
        &[
            "scan",
            "--rules",
            "acme.yaml",
            "--validate",
            "--allow-rule-validators",
            "-f",
            "json",
            "a.env",
        ],
        &env,
        None,
    );
    let report = allowed.json();
    assert_eq!(report["findings"][0]["validation"]["outcome"], "live");
    assert_eq!(
        report["findings"][0]["validation"]["metadata"]["account"],
        "acme-prod"
    );
    assert_eq!(api.requests().len(), 1);

    // The same rule file added by a `.leakhound.yaml` (which may sit in the scanned repository)
    // finds the key but never validates it, even with the flag.
    fx.write(".leakhound.yaml", "rules:\n  files: [acme.yaml]\n");
    let from_config = run_env(
        &fx,
        &[
            "scan",
            "--validate",
            "--allow-rule-validators",
            "-f",
            "json",
            "a.env",
        ],
        &env,
        None,
    );
    let report = from_config.json();
    assert_eq!(report["findings"][0]["rule_id"], "acme-key");
    assert_eq!(
        report["findings"][0]["validation"]["outcome"],
        "unverifiable"
    );
    assert_eq!(api.requests().len(), 1, "a config rule sent a request");
    std::fs::remove_file(fx.path().join(".leakhound.yaml")).unwrap();

    // An http:// validator in a rule file is refused when the file is loaded.
    fx.write(
        "bad.yaml",
        std::fs::read_to_string(fx.path().join("acme.yaml"))
            .unwrap()
            .replace("https://api.acme.test", "http://api.acme.test"),
    );
    let bad = run_env(&fx, &["scan", "--rules", "bad.yaml", "a.env"], &env, None);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("bad.yaml:2: rule `acme-key`: validate: url"),
        "{}",
        bad.stderr
    );
}

#[test]
fn aws_secret_key_is_checked_with_its_key_id_over_sigv4() {
    let sts = server(|request| {
        let auth = request.header("authorization").unwrap_or_default();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIA2MNHIKXHF7KIWO5P/"),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/sts/aws4_request"), "{auth}");
        assert_eq!(
            request.query("Action").as_deref(),
            Some("GetCallerIdentity")
        );
        Response::json(
            &json!({"GetCallerIdentityResponse": {"GetCallerIdentityResult": {
            "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ci", "UserId": "AIDAEXAMPLE"}}}),
        )
    });
    let fx = Fixture::new();
    fx.write(
        "credentials",
        "[default]\naws_access_key_id = AKIA2MNHIKXHF7KIWO5P\naws_secret_access_key = 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\n",
    );
    fx.write(
        "lonely.env",
        "aws_secret_access_key = 20aFzZe7Vv8YuNnJwctGTROxs7qQK7Zym5sEWU4W\n",
    );
    let run = run_env(
        &fx,
        &["scan", "--validate", "-f", "json", "."],
        &[endpoints(&[("sts.amazonaws.com", &sts)])],
        None,
    );
    let report = run.json();
    let v = validation_of(&report, "8h5U3l");
    assert_eq!(v["outcome"], "live", "{v}");
    assert_eq!(v["metadata"]["account"], "123456789012");
    assert_eq!(v["metadata"]["arn"], "arn:aws:iam::123456789012:user/ci");
    let lonely = validation_of(&report, "20aFzZ");
    assert_eq!(lonely["outcome"], "unverifiable");
    assert!(lonely["reason"].as_str().unwrap().contains("key id"));
    assert_eq!(sts.requests().len(), 1);
}

/// A service-account key file around the crate's synthetic test key (never used anywhere), with
/// its fields in the order Google writes them.
fn service_account_file() -> String {
    let pem = include_str!("../../src/validate/signed/testdata/synthetic-rsa-2048.pkcs8.pem");
    let quoted = |text: &str| Value::from(text).to_string();
    format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo-project-381712\",\n  \
         \"private_key_id\": \"87b00c018d7354324ff71800142c8a60d9f72533\",\n  \
         \"private_key\": {},\n  \
         \"client_email\": \"ci-deployer@demo-project-381712.iam.gserviceaccount.com\",\n  \
         \"client_id\": \"108177284611296412123\",\n  \
         \"token_uri\": \"https://oauth2.googleapis.com/token\"\n}}\n",
        quoted(pem)
    )
}

#[test]
fn gcp_service_account_is_checked_with_a_signed_jwt() {
    let google = server(|request| {
        let form = String::from_utf8_lossy(&request.body).to_string();
        assert!(
            form.starts_with("grant_type=urn") && form.contains("jwt-bearer&assertion="),
            "{form}"
        );
        let assertion = form.split("assertion=").nth(1).unwrap_or_default();
        assert_eq!(assertion.split('.').count(), 3, "not a JWT: {assertion}");
        Response::json(
            &json!({"access_token": "ya29.synthetic", "expires_in": 3599,
                               "token_type": "Bearer"}),
        )
    });
    let fx = Fixture::new();
    fx.write("deploy/sa.json", service_account_file());
    let run = run_env(
        &fx,
        &["scan", "--validate", "-f", "json", "."],
        &[endpoints(&[("oauth2.googleapis.com", &google)])],
        None,
    );
    let report = run.json();
    let v = validation_of(&report, "87b00c");
    assert_eq!(v["outcome"], "live", "{v}\n{}", run.stderr);
    assert_eq!(
        v["metadata"]["client_email"],
        "ci-deployer@demo-project-381712.iam.gserviceaccount.com"
    );
    assert!(
        !run.stdout.contains("ya29.synthetic"),
        "access token reported"
    );
    assert!(
        !run.stdout.contains("BEGIN PRIVATE KEY"),
        "private key reported"
    );
    assert_eq!(google.requests().len(), 1);
    assert_eq!(google.requests()[0].path(), "/token");
}

#[test]
fn azure_storage_key_is_checked_with_its_account_name() {
    let account = "7ztpfh8qtzqc18";
    let blob = server(move |request| {
        let auth = request.header("authorization").unwrap_or_default();
        assert!(auth.starts_with("SharedKey 7ztpfh8qtzqc18:"), "{auth}");
        assert_eq!(request.query("comp").as_deref(), Some("list"));
        Response::new(200).body(
            b"<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Containers>\
              <Container><Name>backups</Name></Container></Containers><NextMarker/>\
              </EnumerationResults>"
                .to_vec(),
        )
    });
    let fx = Fixture::new();
    fx.write(
        "local.settings.json",
        format!(
            "{{\"AzureWebJobsStorage\": \"DefaultEndpointsProtocol=https;AccountName={account};\
             AccountKey=Z5c3KYi8l2pYNm8RIxLZLzaQKwp961xMdzzP+12OgUIK5rpUwlhg3H1u1HlYGDhK2SSXFNxd8e6bGX1lymgG6w==;\
             EndpointSuffix=core.windows.net\"}}\n"
        ),
    );
    let host = format!("{account}.blob.core.windows.net");
    let run = run_env(
        &fx,
        &["scan", "--validate", "-f", "json", "."],
        &[endpoints(&[(host.as_str(), &blob)])],
        None,
    );
    let report = run.json();
    let v = validation_of(&report, "Z5c3KY");
    assert_eq!(v["outcome"], "live", "{v}\n{}", run.stderr);
    assert_eq!(v["metadata"]["account"], account);
    assert_eq!(blob.requests().len(), 1);
}
