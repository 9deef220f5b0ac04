//! Extractors through the real binary: archives, notebooks, model files and encoded runs give
//! findings with the provenance of where inside they were; hostile files give errors, counted,
//! and the scan goes on. Every fixture is built here, byte by byte.

use std::io::{Cursor, Write};

use base64::Engine;
use serde_json::{json, Value};

use crate::util::*;

// ---- fixture builders ----

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn tar_gz_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

/// A protocol-2 pickle of a dict of strings, as `torch.save` writes its `data.pkl`; returns
/// the bytes and the offset of each value's opcode.
fn dict_pickle(pairs: &[(&str, &str)]) -> (Vec<u8>, Vec<usize>) {
    let mut p = vec![0x80, 2, b'}', b'q', 0, b'('];
    let mut offsets = Vec::new();
    for (key, value) in pairs {
        for (i, s) in [key, value].into_iter().enumerate() {
            if i == 1 {
                offsets.push(p.len());
            }
            p.push(b'X');
            p.extend_from_slice(&(s.len() as u32).to_le_bytes());
            p.extend_from_slice(s.as_bytes());
        }
    }
    p.extend_from_slice(b"u.");
    (p, offsets)
}

fn safetensors_of(metadata: Value) -> Vec<u8> {
    let header = json!({
        "__metadata__": metadata,
        "embed.weight": { "dtype": "F32", "shape": [1], "data_offsets": [0, 4] },
    });
    let mut json = serde_json::to_vec(&header).unwrap();
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut file = (json.len() as u64).to_le_bytes().to_vec();
    file.extend(json);
    file.extend_from_slice(&[0, 0, 128, 63]);
    file
}

/// GGUF v3, little-endian: string and string-array pairs.
enum GgufValue<'a> {
    Str(&'a str),
    Strs(&'a [&'a str]),
}

fn gguf_of(pairs: &[(&str, GgufValue)]) -> Vec<u8> {
    fn put_str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut file = b"GGUF".to_vec();
    file.extend_from_slice(&3u32.to_le_bytes());
    file.extend_from_slice(&0u64.to_le_bytes());
    file.extend_from_slice(&(pairs.len() as u64).to_le_bytes());
    for (key, value) in pairs {
        put_str(&mut file, key);
        match value {
            GgufValue::Str(s) => {
                file.extend_from_slice(&8u32.to_le_bytes());
                put_str(&mut file, s);
            }
            GgufValue::Strs(items) => {
                file.extend_from_slice(&9u32.to_le_bytes());
                file.extend_from_slice(&8u32.to_le_bytes());
                file.extend_from_slice(&(items.len() as u64).to_le_bytes());
                for s in *items {
                    put_str(&mut file, s);
                }
            }
        }
    }
    file
}

fn notebook_with(cell_lines: &[&str]) -> String {
    json!({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            { "cell_type": "markdown", "metadata": {}, "source": ["# Setup\n"] },
            {
                "cell_type": "code", "metadata": {}, "execution_count": 1,
                "source": cell_lines,
                "outputs": [{
                    "output_type": "display_data", "metadata": {},
                    "data": { "image/png": base64::engine::general_purpose::STANDARD.encode([0x89u8; 3000]) }
                }]
            }
        ]
    })
    .to_string()
}

// ---- helpers over the JSON report ----

fn locations(report: &Value) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["locations"].as_array().unwrap())
        .collect()
}

fn location_at<'a>(report: &'a Value, path: &str) -> &'a Value {
    locations(report)
        .into_iter()
        .find(|l| l["path"] == path)
        .unwrap_or_else(|| panic!("no location at {path}: {report:#}"))
}

fn errors(report: &Value) -> Vec<(String, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

// ---- tests ----

#[test]
fn extract_notebook_cells_with_cell_and_line() {
    let fx = Fixture::new();
    let nb = notebook_with(&[
        "import os\n",
        "print(\"hi\")\n",
        &format!("login(token=\"{HF_TOKEN}\")\n"),
    ]);
    fx.write("analysis.ipynb", nb);
    let run = fx.run(&["scan", "-f", "json", "analysis.ipynb"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let all = locations(&report);
    // Only the cell, not the raw JSON too; the image output is not a finding either.
    assert_eq!(all.len(), 1, "{report:#}");
    let location = all[0];
    assert_eq!(location["path"], "analysis.ipynb");
    assert_eq!(location["within"], "cell 2");
    assert_eq!(location["line"], 3);
    assert_eq!(location["column"], 14);
    assert_eq!(location["snippet"], "login(token=\"hf_KGp********\")");

    let human = fx.run(&["scan", "analysis.ipynb"]);
    assert!(
        human.stdout.contains("analysis.ipynb:3:14 (cell 2)"),
        "{}",
        human.stdout
    );
}

#[test]
fn extract_nested_archives_name_their_members() {
    let fx = Fixture::new();
    let gh = github_token();
    let inner = zip_of(&[("deploy/secrets.yaml", format!("token: {gh}\n").as_bytes())]);
    let outer = zip_of(&[
        ("README.md", b"nothing\n"),
        ("config/.env", format!("HF_TOKEN={HF_TOKEN}\n").as_bytes()),
        ("inner.zip", &inner),
    ]);
    fx.write("release.zip", outer);
    fx.write(
        "backup.tar.gz",
        tar_gz_of(&[("etc/app.conf", format!("\n\nkey = {HF_TOKEN}\n").as_bytes())]),
    );
    let run = fx.run(&["scan", "-f", "json", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(location_at(&report, "release.zip!config/.env")["line"], 1);
    let nested = location_at(&report, "release.zip!inner.zip!deploy/secrets.yaml");
    assert_eq!(nested["column"], 8);
    assert_eq!(nested["source"], "file");
    let tar = location_at(&report, "backup.tar.gz!etc/app.conf");
    assert_eq!(tar["line"], 3);
    assert_eq!(tar["within"], "gzip-decompressed");
    assert_eq!(report["summary"]["skipped"]["binary"], 0);
    assert_eq!(report["errors"], json!([]));
}

#[test]
fn extract_pytorch_zip_pickle_strings_with_offsets() {
    let fx = Fixture::new();
    let (pickle, offsets) =
        dict_pickle(&[("note", "trained on the cluster"), ("hub_token", HF_TOKEN)]);
    let model = zip_of(&[
        ("archive/data.pkl", &pickle),
        ("archive/data/0", &[0u8, 0, 128, 63, 0, 0, 0, 64]),
        ("archive/version", b"3\n"),
    ]);
    fx.write("model.pt", model);
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let location = location_at(&report, "model.pt!archive/data.pkl");
    assert_eq!(
        location["within"],
        format!("pickle string at offset {}", offsets[1])
    );
    assert_eq!(location["column"], 1);
    // The raw tensor storage is binary: counted as skipped, not scanned.
    assert_eq!(report["summary"]["skipped"]["binary"], 1);
}

#[test]
fn extract_safetensors_metadata_and_gguf_fields() {
    let fx = Fixture::new();
    fx.write(
        "model.safetensors",
        safetensors_of(json!({ "format": "pt", "upload_note": format!("pushed with {HF_TOKEN}") })),
    );
    let gh = github_token();
    fx.write(
        "tiny.gguf",
        gguf_of(&[
            ("general.name", GgufValue::Str("tiny")),
            // A vocabulary is walked over, not scanned: this token-shaped piece is no finding.
            ("tokenizer.ggml.tokens", GgufValue::Strs(&["<s>", &gh])),
            (
                "tokenizer.chat_template",
                GgufValue::Str(&format!("{{# key: {AWS_KEY_ID} #}}\n{{{{ messages }}}}")),
            ),
        ]),
    );
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let st = location_at(&report, "model.safetensors");
    assert_eq!(st["within"], "safetensors metadata");
    assert_eq!(st["line"], 2);
    let gguf = location_at(&report, "tiny.gguf");
    assert_eq!(gguf["within"], "GGUF key tokenizer.chat_template");
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        2,
        "{report:#}"
    );
}

#[test]
fn extract_onnx_metadata_props() {
    fn field(number: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![number << 3 | 2, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }
    let fx = Fixture::new();
    let mut entry = field(1, b"hf_token");
    entry.extend(field(2, HF_TOKEN.as_bytes()));
    let mut model = vec![0x08, 0x07];
    model.extend(field(2, b"pytorch"));
    model.extend(field(14, &entry));
    model.extend(field(9, &[0, 0, 0x80, 0x3f]));
    fx.write("model.onnx", model);
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let location = location_at(&run.json(), "model.onnx").clone();
    assert!(
        location["within"]
            .as_str()
            .unwrap()
            .starts_with("protobuf string at offset"),
        "{location}"
    );
    assert_eq!(location["snippet"], "hf_token: hf_KGp********");
}

#[test]
fn extract_base64_config_is_decoded_and_rescanned() {
    let fx = Fixture::new();
    let config = format!("HF_TOKEN={HF_TOKEN}\nDEBUG=false\n");
    let encoded = base64::engine::general_purpose::STANDARD.encode(config);
    fx.write(
        "k8s/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\ndata:\n  app.env: {encoded}\n"),
    );
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let location = location_at(&report, "k8s/secret.yaml");
    assert_eq!(location["within"], "decoded from base64 at line 4");
    assert_eq!(location["line"], 1);
    // Decoding can be turned off.
    let run = fx.run(&["scan", "-f", "json", "--max-decode-depth", "0"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn extract_hostile_inputs_are_errors_and_the_scan_goes_on() {
    let fx = Fixture::new();
    fx.write("good.txt", format!("{HF_TOKEN}\n"));
    // A zip bomb: 16 MiB of zeros in a few KiB.
    fx.write("bomb.zip", zip_of(&[("zeros.txt", &vec![0u8; 16 << 20])]));
    // A GGUF cut in the middle of a string.
    let gguf = gguf_of(&[("general.description", GgufValue::Str("a model card text"))]);
    fx.write("cut.gguf", &gguf[..gguf.len() - 5]);
    // A pickle declaring a 2^64-1 byte string.
    let mut pickle = vec![0x80, 4, 0x8d];
    pickle.extend_from_slice(&u64::MAX.to_le_bytes());
    pickle.extend_from_slice(b"tiny");
    fx.write("absurd.pkl", pickle);
    let run = fx.run(&["scan", "-f", "json"]);
    // Findings take precedence over errors in the exit code.
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let errors = errors(&report);
    let message = |path: &str| {
        errors
            .iter()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("no error for {path}: {errors:?}"))
            .1
            .clone()
    };
    assert!(
        message("bomb.zip").contains("decompression bomb"),
        "{errors:?}"
    );
    assert!(message("cut.gguf").contains("GGUF string"), "{errors:?}");
    assert!(
        message("absurd.pkl").contains("BINUNICODE8 argument"),
        "{errors:?}"
    );
    assert_eq!(report["summary"]["errors"], 3);
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    assert!(run.stderr.contains("bomb.zip: "), "{}", run.stderr);
}

#[test]
fn extract_deep_nesting_stops_at_the_limit() {
    let fx = Fixture::new();
    let mut data = zip_of(&[("leak.txt", format!("{HF_TOKEN}\n").as_bytes())]);
    for _ in 0..9 {
        data = zip_of(&[("next.zip", &data)]);
    }
    fx.write("deep.zip", data);
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let errors = errors(&run.json());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].0,
        format!("deep.zip{}", "!next.zip".repeat(6)),
        "{errors:?}"
    );
    assert!(errors[0].1.contains("deeper than 6"), "{errors:?}");
}

#[test]
fn extract_binaries_only_when_asked() {
    let fx = Fixture::new();
    let mut blob = vec![0u8, 1, 2, 3];
    blob.extend_from_slice(HF_TOKEN.as_bytes());
    blob.extend_from_slice(&[0, 0xff]);
    fx.write("firmware.img", &blob);
    let run = fx.run(&["scan", "-f", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["summary"]["skipped"]["binary"], 1);
    let run = fx.run(&["scan", "-f", "json", "--scan-binaries"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let location = location_at(&run.json(), "firmware.img").clone();
    assert_eq!(location["within"], "string at offset 4");
}

#[test]
fn extract_no_extract_restores_plain_scanning() {
    let fx = Fixture::new();
    fx.write(
        "release.zip",
        zip_of(&[("a.env", format!("T={HF_TOKEN}\n").as_bytes())]),
    );
    fx.write("nb.ipynb", notebook_with(&[&format!("t = '{HF_TOKEN}'\n")]));
    let run = fx.run(&["scan", "-f", "json", "--no-extract"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["skipped"]["binary"], 1);
    // The notebook is scanned as raw JSON text: no cell, a line of the file.
    let location = location_at(&report, "nb.ipynb");
    assert!(location.get("within").is_none(), "{location}");
    let run = fx.run(&["scan", "--no-extract", "--scan-binaries"]);
    assert_eq!(run.code, 2);
}

#[test]
fn extract_sarif_points_at_the_outer_file() {
    let fx = Fixture::new();
    fx.write(
        "release.zip",
        zip_of(&[("config/.env", format!("HF_TOKEN={HF_TOKEN}\n").as_bytes())]),
    );
    let run = fx.run(&["scan", "-f", "sarif"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let sarif = run.json();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "release.zip"
    );
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .contains("(in release.zip!config/.env)"),
        "{result:#}"
    );
}
