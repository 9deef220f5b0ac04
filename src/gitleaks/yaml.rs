//! Writing converted rules as a leakhound rule file (`leakhound rules import-gitleaks`).
//!
//! A small emitter rather than a YAML serializer: every string is a single-quoted scalar
//! (a `'` doubled), or, when it holds a control character, a double-quoted one with JSON
//! escapes (JSON strings are valid YAML double-quoted scalars). The rule ids are made valid
//! leakhound ids (lowercase, `_` → `-`), and each rule carries its origin as a comment.

use std::fmt::Write as _;

use super::{GitleaksConfig, Note};
use crate::suppress::{Condition, RegexTarget};

/// A string as a YAML scalar that reads back as exactly `text`.
pub fn quote(text: &str) -> String {
    if text.chars().any(|c| c.is_control()) {
        serde_json::to_string(text).expect("strings serialize")
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A gitleaks id as a leakhound id: lowercase letters, digits, `-` and `.`.
pub fn leakhound_id(id: &str) -> String {
    id.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '.') => c,
            _ => '-',
        })
        .collect()
}

/// The rule file text for `config`, with not-honoured fields and the allowlists as comments.
pub fn rule_file(config: &GitleaksConfig, notes: &[Note]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Converted from {} by `leakhound rules import-gitleaks`.",
        config.file
    );
    out.push_str(
        "# The rules keep gitleaks' semantics: `whole_blob` (a keyword anywhere in a file runs the\n\
         # pattern over the whole file), `secret_group: 0` (the first non-empty capture group, else\n\
         # the whole match), `path` (only matching files). Patterns start with (?-u): ASCII \\w \\d \\s \\b,\n\
         # as in Go. Add `examples` and `negative_examples` before `leakhound rules check` passes.\n",
    );
    if !config.use_default {
        out.push_str(
            "# No `[extend] useDefault = true`: gitleaks would run only these rules; scan with\n\
             # `--no-builtin-rules --rules FILE` for the same effect.\n",
        );
    }
    if !notes.is_empty() {
        out.push_str("#\n# Not honoured:\n");
        for note in notes {
            let _ = writeln!(out, "#   {}: {}", note.place, note.message);
        }
    }
    out.push_str("rules:\n");
    for rule in &config.rules {
        let id = leakhound_id(&rule.id);
        let _ = writeln!(out, "  # origin: {} (gitleaks config)", rule.origin);
        if id != rule.id {
            let _ = writeln!(out, "  # gitleaks id: {}", quote(&rule.id));
        }
        let _ = writeln!(out, "  - id: {}", quote(&id));
        let _ = writeln!(out, "    name: {}", quote(&rule.name));
        let _ = writeln!(out, "    provider: {}", quote(&rule.provider));
        // Our rule files refuse keywords under 3 bytes; without them the rule runs on every
        // file, which finds everything gitleaks' keyword gate would have let through.
        let keywords: Vec<String> = rule
            .keywords
            .iter()
            .filter(|k| k.len() >= 3)
            .cloned()
            .collect();
        if keywords.len() < rule.keywords.len() {
            out.push_str(
                "    # keywords under 3 bytes dropped: leakhound rule files refuse them\n",
            );
        }
        let keywords = if keywords.len() < rule.keywords.len() {
            Vec::new()
        } else {
            keywords
        };
        let _ = writeln!(out, "    keywords: {}", list(&keywords));
        let _ = writeln!(out, "    pattern: {}", quote(&rule.pattern));
        if let Some(group) = rule.secret_group {
            let _ = writeln!(out, "    secret_group: {group}");
        }
        if let Some(entropy) = rule.min_entropy {
            let _ = writeln!(out, "    min_entropy: {entropy:?}");
        }
        if let Some(path) = &rule.path {
            let _ = writeln!(out, "    path: {}", quote(path.as_str()));
        }
        if !rule.tags.is_empty() {
            let _ = writeln!(out, "    tags: {}", list(&rule.tags));
        }
        let _ = writeln!(out, "    whole_blob: true");
        let _ = writeln!(out, "    confidence: {}", rule.confidence);
        out.push_str("    examples: []\n    negative_examples: []\n");
    }
    if !config.allowlists.is_empty() {
        out.push_str(&allowlists_comment(config));
    }
    out
}

/// The allowlists as a commented `.leakhound.yaml` snippet. gitleaks path allowlists are
/// regexes and `.leakhound.yaml` paths are globs, so paths are listed for the user to turn
/// into globs; keeping the TOML and scanning with `--gitleaks-config` honours them as written.
fn allowlists_comment(config: &GitleaksConfig) -> String {
    let mut out = String::from(
        "\n# Allowlists: a .leakhound.yaml snippet (or keep the TOML and use --gitleaks-config,\n\
         # which applies them exactly). gitleaks' `paths` are regexes, `.leakhound.yaml` paths\n\
         # are globs: rewrite them.\n# allowlists:\n",
    );
    for list in &config.allowlists {
        let _ = writeln!(out, "#   - description: {}", quote(&list.description));
        let _ = writeln!(out, "#     # from {}", list.origin);
        if !list.rule_ids.is_empty() {
            let ids: Vec<String> = list.rule_ids.iter().map(|id| leakhound_id(id)).collect();
            let _ = writeln!(out, "#     rules: {}", self::list(&ids));
        }
        if list.condition == Condition::All {
            out.push_str("#     condition: all\n");
        }
        if !list.regexes.is_empty() {
            let regexes: Vec<String> = list
                .regexes
                .iter()
                .map(|r| r.as_str().to_string())
                .collect();
            let _ = writeln!(out, "#     regexes: {}", self::list(&regexes));
            let target = match list.regex_target {
                RegexTarget::Secret => "secret",
                RegexTarget::Match => "match",
                RegexTarget::Line => "line",
            };
            let _ = writeln!(out, "#     regex_target: {target}");
        }
        if !list.stopwords.is_empty() {
            let _ = writeln!(out, "#     stopwords: {}", self::list(&list.stopwords));
        }
        if !list.commits.is_empty() {
            let _ = writeln!(out, "#     commits: {}", self::list(&list.commits));
        }
        if !list.paths.regexes.is_empty() {
            let paths: Vec<String> = list
                .paths
                .regexes
                .iter()
                .map(|r| r.as_str().to_string())
                .collect();
            let _ = writeln!(
                out,
                "#     paths: {}  # REGEXES: rewrite as globs",
                self::list(&paths)
            );
        }
    }
    out
}
