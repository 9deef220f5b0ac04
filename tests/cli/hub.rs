//! `leakhound hf` end to end against a fake Hub on loopback ports (`hub/fake.rs`): files,
//! weight headers fetched by Range through a redirect to a second port, discussions over
//! several pages, account sweeps, gated and missing repos, rate limits, every report format.
//! `HF_ENDPOINT` points every request at the fake; nothing leaves 127.0.0.1.

mod fake;
pub mod http;

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use fake::{Comment, Discussion, FakeHub, Faults, Repo};
use serde_json::Value;

use crate::util::*;

/// The token leakhound authenticates with (synthetic). It must never reach the CDN or any
/// output.
const AUTH_TOKEN: &str = "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";
/// Leaked tokens planted in the fixtures (synthetic: `hf_` + 34 random letters).
const TOK_CONFIG: &str = "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";
const TOK_SAFETENSORS: &str = "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";
const TOK_GGUF: &str = "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";
const TOK_PICKLE: &str = "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";
const TOK_PR: &str = "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";
const TOK_TITLE: &str = "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";
const TOK_DATASET: &str = "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";

const WEIGHT_PADDING: usize = 3 << 20;

/// Runs `leakhound hf ARGS` against `hub` with a clean environment plus `env`.
fn run_hf(fx: &Fixture, hub: &FakeHub, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_leakhound"));
    command
        .arg("hf")
        .args(args)
        .current_dir(fx.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HF_ENDPOINT", hub.url())
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let output = command.output().expect("run leakhound");
    Run {
        code: output.status.code().expect("exited normally"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn with_token() -> [(&'static str, &'static str); 1] {
    [("HF_TOKEN", AUTH_TOKEN)]
}

// ---- weight files -------------------------------------------------------------------------

fn safetensors(secret: &str) -> Vec<u8> {
    let mut header = format!(
        r#"{{"__metadata__":{{"format":"pt","note":"trained with {secret}"}},"w":{{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}}}"#
    );
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend(header.as_bytes());
    file.extend(vec![0x3fu8; WEIGHT_PADDING]);
    file
}

fn gguf(secret: &str) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, text: &str) {
        out.extend((text.len() as u64).to_le_bytes());
        out.extend(text.as_bytes());
    }
    let mut file = b"GGUF".to_vec();
    file.extend(3u32.to_le_bytes());
    file.extend(1u64.to_le_bytes());
    file.extend(2u64.to_le_bytes());
    for (key, value) in [
        ("general.name", "tiny".to_string()),
        (
            "general.url",
            format!("https://example.com/?token={secret}"),
        ),
    ] {
        string(&mut file, key);
        file.extend(8u32.to_le_bytes());
        string(&mut file, &value);
    }
    file.extend(vec![0u8; WEIGHT_PADDING]);
    file
}

/// A PyTorch-style stored zip: `archive/data.pkl` first, then a large tensor record.
fn torch_zip(secret: &str) -> Vec<u8> {
    let mut pickle =
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x05token\x94X".to_vec();
    pickle.extend((secret.len() as u32).to_le_bytes());
    pickle.extend(secret.as_bytes());
    pickle.extend(b"\x94s.");
    let members: [(&str, Vec<u8>); 3] = [
        ("archive/data.pkl", pickle),
        ("archive/data/0", vec![0u8; WEIGHT_PADDING]),
        ("archive/version", b"3\n".to_vec()),
    ];
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in &members {
        let offset = out.len() as u32;
        let sizes = [
            (data.len() as u32).to_le_bytes(),
            (data.len() as u32).to_le_bytes(),
        ]
        .concat();
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend(&sizes);
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name.as_bytes());
        out.extend(data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend(&sizes);
        central.extend((name.len() as u16).to_le_bytes());
        central.extend([0u8; 12]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let directory_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0, 0, 0, 0, 3, 0, 3, 0]);
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(directory_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

// ---- fixtures -------------------------------------------------------------------------------

fn comment(id: &str, author: &str, date: &str, text: &str) -> Comment {
    Comment {
        id: id.into(),
        author: author.into(),
        date: date.into(),
        text: text.into(),
    }
}

/// One model with text files, every weight format, binaries, and three discussions.
fn model_repo() -> Repo {
    Repo::new("model", "acme/model", 0xab)
        .file("README.md", "# Model\n\nNothing to see.\n")
        .file(
            "config.json",
            format!("{{\n  \"model_type\": \"bert\",\n  \"hub_token\": \"{TOK_CONFIG}\"\n}}\n"),
        )
        .file("src/app.py", "import os\n\nprint(os.environ['X'])\n")
        .file("blob.dat", vec![0u8, 1, 2, 3, 0, 0])
        .file("images/logo.png", vec![0x89u8, b'P', b'N', b'G', 0, 0])
        .file("data/big.txt", "x".repeat(300 * 1024))
        .lfs("model.safetensors", safetensors(TOK_SAFETENSORS))
        .lfs("model.gguf", gguf(TOK_GGUF))
        .lfs("pytorch_model.bin", torch_zip(TOK_PICKLE))
        .discussion(Discussion {
            num: 1,
            title: "Question about the license".into(),
            is_pr: false,
            author: "bob".into(),
            date: "2024-01-05T10:00:00.000Z".into(),
            comments: vec![comment(
                "c1",
                "bob",
                "2024-01-05T10:00:00.000Z",
                "Is it MIT?",
            )],
        })
        .discussion(Discussion {
            num: 2,
            title: "Add inference script".into(),
            is_pr: true,
            author: "carol".into(),
            date: "2024-03-01T08:30:00.000Z".into(),
            comments: vec![
                comment(
                    "65e1a0c1",
                    "carol",
                    "2024-03-01T08:30:00.000Z",
                    &format!("This PR adds infer.py.\n\nRun it with HF_TOKEN={TOK_PR}\n"),
                ),
                comment("65e1a0c2", "dave", "2024-03-02T09:00:00.000Z", "thanks!"),
            ],
        })
        .discussion(Discussion {
            num: 3,
            title: format!("leaked {TOK_TITLE} oops"),
            is_pr: false,
            author: "erin".into(),
            date: "2024-04-01T12:00:00.000Z".into(),
            comments: vec![],
        })
}

/// An account: three models (one gated), two datasets, one Space, and someone else's model.
fn account_repos() -> Vec<Repo> {
    vec![
        Repo::new("model", "acme/model-a", 0x01).file(".env", format!("HF_TOKEN={TOK_CONFIG}\n")),
        Repo::new("model", "acme/model-b", 0x02).file("README.md", "clean\n"),
        Repo::new("model", "acme/gated-model", 0x03)
            .file("config.json", format!("{{\"t\": \"{TOK_TITLE}\"}}\n"))
            .gated(),
        Repo::new("dataset", "acme/data-1", 0x04).file(
            "train.jsonl",
            format!("{{\"text\": \"hi\"}}\n{{\"text\": \"key {TOK_DATASET}\"}}\n"),
        ),
        Repo::new("dataset", "acme/data-2", 0x05).file("README.md", "clean\n"),
        Repo::new("space", "acme/app", 0x06).file("app.py", "import gradio\n"),
        Repo::new("model", "other/model", 0x07).file("x.txt", format!("{TOK_PR}\n")),
    ]
}

fn location_of<'a>(report: &'a Value, secret: &str) -> &'a Value {
    let prefix = &secret[..6];
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["secret_masked"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no finding for {prefix}…: {report:#}"))
        .get("locations")
        .and_then(|l| l.get(0))
        .unwrap()
}

fn count(requests: &[http::Request], pred: impl Fn(&http::Request) -> bool) -> usize {
    requests.iter().filter(|r| pred(r)).count()
}

// ---- tests ----------------------------------------------------------------------------------

#[test]
fn scans_files_weights_and_discussions_of_a_repo() {
    let hub = FakeHub::start(vec![model_repo()], 2, Faults::default());
    let fx = Fixture::new();
    let run = run_hf(
        &fx,
        &hub,
        &["-f", "json", "--max-file-size", "200K", "acme/model"],
        &with_token(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        6,
        "{report:#}"
    );
    let sha = "ab".repeat(20);
    let endpoint = hub.url();

    // A plain file: every provenance field and a link to the line.
    let config = location_of(&report, TOK_CONFIG);
    assert_eq!(config["source"], "hub");
    assert_eq!(config["path"], "hf://acme/model/config.json");
    assert_eq!(config["line"], 3);
    let h = &config["hub"];
    assert_eq!(h["repo_type"], "model");
    assert_eq!(h["repo_id"], "acme/model");
    assert_eq!(h["revision"], sha.as_str());
    assert_eq!(h["path"], "config.json");
    assert_eq!(
        h["url"],
        format!("{endpoint}/acme/model/blob/{sha}/config.json#L3")
    );
    assert!(h.get("discussion").is_none());

    // Weight files: only the string-bearing parts, labelled.
    let extract = |secret| location_of(&report, secret)["hub"]["extract"].clone();
    assert_eq!(extract(TOK_SAFETENSORS), "safetensors-header");
    assert_eq!(extract(TOK_GGUF), "gguf-metadata");
    assert_eq!(extract(TOK_PICKLE), "zip:archive/data.pkl");
    let weights = location_of(&report, TOK_SAFETENSORS);
    assert_eq!(weights["hub"]["path"], "model.safetensors");
    assert_eq!(
        weights["hub"]["url"],
        format!("{endpoint}/acme/model/blob/{sha}/model.safetensors")
    );

    // A PR description and a discussion title, with author, date and link.
    let pr = location_of(&report, TOK_PR);
    assert_eq!(pr["path"], "hf://acme/model/discussions/2#65e1a0c1");
    assert_eq!(pr["line"], 3);
    let d = &pr["hub"]["discussion"];
    assert_eq!(d["num"], 2);
    assert_eq!(d["is_pull_request"], true);
    assert_eq!(d["part"], "comment");
    assert_eq!(d["event_id"], "65e1a0c1");
    assert_eq!(d["author"], "carol");
    assert_eq!(d["created_at"], "2024-03-01T08:30:00.000Z");
    assert_eq!(
        pr["hub"]["url"],
        format!("{endpoint}/acme/model/discussions/2")
    );
    assert!(pr["hub"].get("revision").is_none());
    let title = location_of(&report, TOK_TITLE);
    assert_eq!(title["path"], "hf://acme/model/discussions/3#title");
    assert_eq!(title["hub"]["discussion"]["author"], "erin");
    assert_eq!(title["hub"]["discussion"]["part"], "title");

    // Skips: the PNG and the big file without a request; blob.dat after its sniff.
    let summary = &report["summary"];
    assert_eq!(summary["skipped"]["binary"], 2);
    assert_eq!(summary["skipped"]["too_large"], 1);
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);

    let hub_requests = hub.hub.requests();
    let cdn_requests = hub.cdn.requests();
    // The token goes to the Hub on every request, never to the CDN on the other port.
    for request in hub_requests.iter().chain(&cdn_requests) {
        assert_eq!(request.method, "GET");
    }
    for request in &hub_requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {AUTH_TOKEN}").as_str())
        );
        assert_eq!(
            request.header("user-agent"),
            Some(concat!("leakhound/", env!("CARGO_PKG_VERSION")))
        );
    }
    assert!(!cdn_requests.is_empty());
    for request in &cdn_requests {
        assert_eq!(request.header("authorization"), None, "{request:?}");
        assert!(
            request.header("range").is_some(),
            "weights are read by range: {request:?}"
        );
    }
    assert!(!hub_requests
        .iter()
        .any(|r| r.path().ends_with("logo.png") || r.path().ends_with("big.txt")));
    // 9 MiB of weights; a few KiB and one 64 KiB zip tail fetched.
    let served: usize = cdn_requests
        .iter()
        .map(|r| {
            let (a, b) = r.header("range").unwrap()["bytes=".len()..]
                .split_once('-')
                .unwrap();
            b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1
        })
        .sum();
    // 100 KB of safetensors, 200 KiB of GGUF (capped by --max-file-size), the 64 KiB zip
    // tail and the pickle: about 370 KB of 9 MiB.
    assert!(served < 400 * 1024, "{served} bytes fetched from the CDN");

    // Requests: 1 revision + 6 tree pages (12 entries, 2 per page) + 4 text files + 3 weight
    // resolves, then on the CDN 1 safetensors + 1 GGUF + 2 zip (tail, member) ranges;
    // discussions: 2 pages + 3 details.
    assert_eq!(count(&hub_requests, |r| r.path().contains("/revision/")), 1);
    assert_eq!(count(&hub_requests, |r| r.path().contains("/tree/")), 6);
    assert_eq!(count(&hub_requests, |r| r.path().contains("/resolve/")), 7);
    assert_eq!(
        count(&hub_requests, |r| r.path().ends_with("/discussions")),
        2
    );
    assert_eq!(
        count(&hub_requests, |r| r.path().contains("/discussions/")),
        3
    );
    assert_eq!(hub_requests.len(), 19);
    assert_eq!(cdn_requests.len(), 4);
    assert!(run.stderr.contains("23 HTTP requests"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hf://acme/model@ababab"),
        "{}",
        run.stderr
    );

    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(AUTH_TOKEN));
        assert!(!text.contains(TOK_CONFIG), "secrets are masked");
    }
}

#[test]
fn sweeps_an_account_page_by_page() {
    let hub = FakeHub::start(account_repos(), 2, Faults::default());
    let fx = Fixture::new();
    // One worker: the order of requests shows the listing is consumed as it arrives.
    let run = run_hf(&fx, &hub, &["-f", "json", "-j", "1", "acme"], &with_token());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["locations"][0]["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "hf://acme/model-a/.env",
            "hf://datasets/acme/data-1/train.jsonl"
        ]
    );
    let dataset = location_of(&report, TOK_DATASET);
    assert_eq!(dataset["line"], 2);
    assert_eq!(dataset["hub"]["repo_type"], "dataset");
    assert_eq!(
        dataset["hub"]["url"],
        format!(
            "{}/datasets/acme/data-1/blob/{}/train.jsonl#L2",
            hub.url(),
            "04".repeat(20)
        )
    );

    // The gated model is skipped with the Hub's reason; the sweep went on.
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["path"], "hf://acme/gated-model");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.starts_with("skipped: gated repo"), "{message}");
    assert!(message.contains("GatedRepo") && message.contains("not in the authorized list"));
    assert!(
        run.stderr
            .contains("Hub: 5 repos scanned, 1 skipped, 0 failed"),
        "{}",
        run.stderr
    );

    let requests = hub.hub.requests();
    let listing =
        |r: &http::Request| r.path().starts_with("/api/") && r.path().matches('/').count() == 2;
    // models: 3 (2 pages), datasets: 2 (1 page), spaces: 1 (1 page).
    assert_eq!(count(&requests, listing), 4);
    // Listed repos come with their sha: no revision calls.
    assert_eq!(count(&requests, |r| r.path().contains("/revision/")), 0);
    // Per repo: 1 tree page + 1 file + 1 discussions page (the gated one's file is refused).
    assert_eq!(requests.len(), 4 + 6 * 3);
    assert!(run.stderr.contains(&format!("{} HTTP requests", 4 + 6 * 3)));
    assert!(!requests.iter().any(|r| r.path().contains("other")));
    // Streaming: model-a is scanned before the second listing page is requested.
    let first_tree = requests
        .iter()
        .position(|r| r.path().contains("/tree/"))
        .unwrap();
    let second_page = requests
        .iter()
        .position(|r| listing(r) && r.target.contains("cursor="))
        .unwrap();
    assert!(
        first_tree < second_page,
        "{:?}",
        requests.iter().map(|r| &r.target).collect::<Vec<_>>()
    );
    // Progress: one line per repo.
    assert!(
        run.stderr.contains("hf://spaces/acme/app@060606"),
        "{}",
        run.stderr
    );
}

#[test]
fn type_narrows_a_sweep() {
    let hub = FakeHub::start(account_repos(), 2, Faults::default());
    let fx = Fixture::new();
    let run = run_hf(
        &fx,
        &hub,
        &["-f", "json", "--type", "dataset", "acme"],
        &with_token(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let requests = hub.hub.requests();
    assert!(requests
        .iter()
        .all(|r| !r.path().starts_with("/api/models") && !r.path().starts_with("/api/spaces")));
    assert!(
        run.stderr
            .contains("Hub: 2 repos scanned, 0 skipped, 0 failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_gated_and_bad_revisions_are_reported_and_the_run_goes_on() {
    let hub = FakeHub::start(account_repos(), 2, Faults::default());
    let fx = Fixture::new();
    let run = run_hf(
        &fx,
        &hub,
        &[
            "-f",
            "json",
            "acme/missing",
            "acme/gated-model",
            "acme/model-b",
            "datasets/acme/data-2",
        ],
        &with_token(),
    );
    assert_eq!(run.code, 2, "errors and no findings: {}", run.stderr);
    let report = run.json();
    let errors: Vec<(String, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().into(),
                e["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[0].0, "hf://acme/gated-model");
    assert!(errors[0].1.contains("403") && errors[0].1.contains("GatedRepo"));
    assert_eq!(errors[1].0, "hf://acme/missing");
    assert!(
        errors[1].1.starts_with("skipped: not found"),
        "{}",
        errors[1].1
    );
    assert!(errors[1].1.contains("RepoNotFound"));
    assert!(
        run.stderr
            .contains("Hub: 2 repos scanned, 2 skipped, 0 failed"),
        "{}",
        run.stderr
    );
    assert!(run
        .stderr
        .contains("leakhound: hf://acme/missing: skipped: not found"));

    let run = run_hf(
        &fx,
        &hub,
        &["-f", "json", "--revision", "nope", "acme/model-b"],
        &with_token(),
    );
    assert_eq!(run.code, 2);
    let message = run.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("failed:") && message.contains("RevisionNotFound"),
        "{message}"
    );
    assert!(run.stderr.contains("0 repos scanned, 0 skipped, 1 failed"));
}

#[test]
fn rate_limits_and_server_errors_are_retried() {
    let faults = Faults {
        throttle: vec!["/api/models".into()],
        unavailable: vec![format!("/api/models/acme/model-a/tree/{}", "01".repeat(20))],
        ..Faults::default()
    };
    let hub = FakeHub::start(account_repos(), 2, faults);
    let fx = Fixture::new();
    let started = Instant::now();
    let run = run_hf(
        &fx,
        &hub,
        &["-f", "json", "--type", "model", "acme"],
        &with_token(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        started.elapsed().as_millis() >= 1000,
        "waited for Retry-After"
    );
    let requests = hub.hub.requests();
    let first_pages = count(&requests, |r| {
        r.path() == "/api/models" && !r.target.contains("cursor=")
    });
    assert_eq!(first_pages, 2, "the throttled listing page was asked twice");
    assert_eq!(
        count(&requests, |r| r.path().contains("/acme/model-a/tree/")),
        2
    );
    assert!(
        run.stderr.contains("rate limit (api) reached, waiting 1s"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Hub: 2 repos scanned, 1 skipped, 0 failed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        location_of(&run.json(), TOK_CONFIG)["path"],
        "hf://acme/model-a/.env"
    );
}

#[test]
fn urls_revisions_and_no_discussions() {
    let hub = FakeHub::start(account_repos(), 2, Faults::default());
    let fx = Fixture::new();
    let target = "https://huggingface.co/datasets/acme/data-1/tree/v1";
    let run = run_hf(
        &fx,
        &hub,
        &["-f", "json", "--no-discussions", target],
        &with_token(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let location = location_of(&run.json(), TOK_DATASET).clone();
    assert_eq!(location["path"], "hf://datasets/acme/data-1@v1/train.jsonl");
    assert_eq!(location["hub"]["revision"], "04".repeat(20));
    let requests = hub.hub.requests();
    assert!(requests
        .iter()
        .any(|r| r.path() == "/api/datasets/acme/data-1/revision/v1"));
    assert!(!requests.iter().any(|r| r.path().contains("discussions")));
    // Every request went to HF_ENDPOINT, whatever host the URL named.
    assert_eq!(requests.len(), 3);
}

#[test]
fn sarif_human_and_jsonl_carry_hub_locations() {
    let hub = FakeHub::start(vec![model_repo()], 50, Faults::default());
    let fx = Fixture::new();
    let run = run_hf(&fx, &hub, &["-f", "sarif", "acme/model"], &with_token());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas/sarif-schema-2.1.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let sha = "ab".repeat(20);
    let config = results
        .iter()
        .find(|r| r["locations"][0]["properties"]["hub"]["path"] == "config.json")
        .unwrap();
    let location = &config["locations"][0];
    assert_eq!(
        location["physicalLocation"]["artifactLocation"]["uri"],
        format!("{}/acme/model/blob/{sha}/config.json", hub.url())
    );
    assert_eq!(location["physicalLocation"]["region"]["startLine"], 3);
    assert_eq!(location["properties"]["hub"]["revision"], sha.as_str());
    assert_eq!(
        location["properties"]["hub"]["url"],
        format!("{}/acme/model/blob/{sha}/config.json#L3", hub.url())
    );

    let run = run_hf(&fx, &hub, &["acme/model"], &with_token());
    assert!(
        run.stdout.contains("hf://acme/model/config.json:3:17"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains(&format!("link:    {}/acme/model/discussions/2", hub.url())));

    let run = run_hf(&fx, &hub, &["-f", "jsonl", "acme/model"], &with_token());
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert!(lines
        .iter()
        .all(|f| f["locations"][0]["hub"]["url"].is_string()));
}

#[test]
fn token_file_anonymous_access_and_history() {
    let hub = FakeHub::start(account_repos(), 2, Faults::default());
    let fx = Fixture::new();
    fx.write("token", format!("{AUTH_TOKEN}\n"));
    let run = run_hf(
        &fx,
        &hub,
        &["-q", "--token-file", "token", "acme/model-b"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let requests = hub.hub.requests();
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some(&*format!("Bearer {AUTH_TOKEN}"))));

    let anonymous = FakeHub::start(account_repos(), 2, Faults::default());
    let run = run_hf(&fx, &anonymous, &["-q", "acme/model-b"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(anonymous
        .hub
        .requests()
        .iter()
        .all(|r| r.header("authorization").is_none()));

    // The fake Hub does not speak git: the clone fails, is reported, and the sweep goes on.
    let run = run_hf(
        &fx,
        &hub,
        &["-f", "json", "--history", "acme/model-b"],
        &with_token(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("git clone"), "{}", run.stderr);
    assert!(!run.stderr.contains(AUTH_TOKEN));

    let run = run_hf(&fx, &hub, &["--help"], &with_token());
    assert_eq!(run.code, 0);
    assert!(!run.stdout.contains(AUTH_TOKEN));
    assert!(run.stdout.contains("HF_TOKEN"));

    let run = run_hf(&fx, &hub, &["acme/bad name"], &with_token());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid target"), "{}", run.stderr);
}

#[test]
fn an_unreachable_endpoint_fails_each_repo_cleanly() {
    let hub = FakeHub::start(Vec::new(), 2, Faults::default());
    let fx = Fixture::new();
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let run = run_hf(
        &fx,
        &hub,
        &["-f", "json", "acme/m"],
        &[("HF_ENDPOINT", &endpoint)],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let message = run.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.starts_with("failed: cannot connect"), "{message}");
    assert!(
        run.stderr.contains(
            "0 repos scanned, 0 skipped, 1 failed; 0 files, 0 discussions; 3 HTTP requests"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn an_exhausted_bucket_pauses_requests_before_any_429() {
    let faults = Faults {
        exhaust: vec!["/api/models/acme/model-b/revision/main".into()],
        ..Faults::default()
    };
    let hub = FakeHub::start(account_repos(), 2, faults);
    let fx = Fixture::new();
    let started = Instant::now();
    let run = run_hf(&fx, &hub, &["acme/model-b"], &with_token());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        started.elapsed().as_millis() >= 1000,
        "the next api request waited"
    );
    assert!(
        run.stderr.contains("rate limit (api) reached, waiting 1s"),
        "{}",
        run.stderr
    );
    // Nothing was refused, nothing retried: revision, tree, file, discussions.
    assert_eq!(hub.hub.requests().len(), 4);
}
