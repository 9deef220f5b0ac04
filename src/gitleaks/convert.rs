//! gitleaks rules and allowlists → leakhound [`Rule`]s and [`Allowlist`]s.
//!
//! Go's regexp and Rust's `regex` are both RE2 dialects. The differences that matter:
//! in Go `\w`, `\d`, `\s` and `\b` are ASCII-only, in Rust Unicode-aware, so a pattern is
//! compiled with Unicode off (`(?-u)`) when it can be, which gives Go's meaning; `\Q...\E`
//! (Go only) becomes an escaped literal. A pattern that still does not compile is an error
//! naming the rule.

use std::collections::HashSet;

use regex::bytes::Regex;

use super::{
    parse::{RawAllowlist, RawConfig, RawRule},
    GitleaksConfig, GitleaksError, Note,
};
use crate::{
    engine::compile_pattern,
    rules::{Confidence, Rule, RuleOrigin, RuleSource},
    suppress::{Allowlist, Condition, PathMatcher, RegexTarget},
};

/// The provider slug of imported rules.
pub const PROVIDER: &str = "gitleaks";

/// Merges `current` over the config it extends, as gitleaks' `extend` does: `disabledRules`
/// drops base rules; a rule in both keeps the base's fields unless `current` sets them, and
/// gets both sets of keywords, tags and allowlists; base-only rules follow current's.
pub fn merge(mut current: RawConfig, base: RawConfig) -> RawConfig {
    let disabled: HashSet<&str> = current
        .extend
        .disabled_rules
        .iter()
        .map(String::as_str)
        .collect();
    let mut added = Vec::new();
    for base_rule in base.rules {
        if disabled.contains(base_rule.id.as_str()) {
            continue;
        }
        match current.rules.iter_mut().find(|r| r.id == base_rule.id) {
            Some(own) => *own = merge_rule(own.clone(), base_rule),
            None => added.push(base_rule),
        }
    }
    current.rules.extend(added);
    current.allowlists.extend(base.allowlists);
    current.extend.use_default |= base.extend.use_default;
    current
}

fn merge_rule(own: RawRule, mut base: RawRule) -> RawRule {
    if !own.description.is_empty() {
        base.description = own.description;
    }
    base.entropy = own.entropy.filter(|e| *e != 0.0).or(base.entropy);
    base.secret_group = own.secret_group.filter(|g| *g != 0).or(base.secret_group);
    base.regex = own.regex.or(base.regex);
    base.path = own.path.or(base.path);
    base.tags.extend(own.tags);
    base.keywords.extend(own.keywords);
    base.allowlists.extend(own.allowlists);
    base.line = own.line;
    base
}

/// Converts a parsed (and merged) config.
pub fn convert(
    file: &str,
    raw: RawConfig,
    mut notes: Vec<Note>,
) -> Result<GitleaksConfig, GitleaksError> {
    let mut config = GitleaksConfig {
        file: file.to_string(),
        use_default: raw.extend.use_default,
        disabled_rules: raw.extend.disabled_rules.clone(),
        ..GitleaksConfig::default()
    };
    for (index, list) in raw.allowlists.iter().enumerate() {
        let origin = format!("{file} [[allowlists]] {}", index + 1);
        config.allowlists.push(allowlist(
            file,
            0,
            &origin,
            list,
            list.target_rules.clone(),
        )?);
    }
    let mut seen = HashSet::new();
    for rule in &raw.rules {
        let error = |message: String| GitleaksError {
            file: file.to_string(),
            line: rule.line,
            message: format!("rule `{}`: {message}", rule.id),
        };
        if !seen.insert(rule.id.clone()) {
            return Err(error("defined twice".into()));
        }
        let note = |message: String| Note {
            file: file.to_string(),
            line: rule.line,
            place: format!("rule `{}`", rule.id),
            message,
        };
        if rule.skip_report {
            notes.push(note(
                "`skipReport = true`: it only serves composite rules, which are not supported; \
                 the rule is not run"
                    .into(),
            ));
            continue;
        }
        for (n, list) in rule.allowlists.iter().enumerate() {
            let origin = format!("{file} rule `{}` allowlist {}", rule.id, n + 1);
            config.allowlists.push(allowlist(
                file,
                rule.line,
                &origin,
                list,
                vec![rule.id.clone()],
            )?);
        }
        let Some(pattern) = &rule.regex else {
            if rule.path.is_some() {
                notes.push(note(
                    "path-only rule (no `regex`) not honoured: leakhound reports secrets, not \
                     the presence of files"
                        .into(),
                ));
            } else {
                config.extension_ids.push(rule.id.clone());
                if !rule.keywords.is_empty() || rule.entropy.is_some() {
                    notes.push(note(
                        "no `regex`: only its allowlists are used, on the rule of the same id; \
                         its keywords and entropy are not"
                            .into(),
                    ));
                }
            }
            continue;
        };
        let (pattern, unicode_note) =
            translate(pattern).map_err(|e| error(format!("invalid regex: {e}")))?;
        if let Some(message) = unicode_note {
            notes.push(note(message));
        }
        let groups = compile_pattern(&pattern)
            .map_err(|e| error(format!("invalid regex: {e}")))?
            .captures_len()
            - 1;
        let secret_group = rule.secret_group.unwrap_or(0);
        if secret_group > groups {
            return Err(error(format!(
                "secretGroup {secret_group} but the regex has only {groups} capture groups"
            )));
        }
        let min_entropy = match rule.entropy {
            None => None,
            Some(0.0) => None,
            Some(e) if (0.0..=8.0).contains(&e) => Some(e),
            Some(e) => return Err(error(format!("entropy {e} is outside 0..=8"))),
        };
        let path = match &rule.path {
            Some(path) => {
                Some(compile_regex(path).map_err(|e| error(format!("invalid path: {e}")))?)
            }
            None => None,
        };
        config.rules.push(Rule {
            // A gitleaks config may sit in the scanned repository: its rules never validate.
            validate: None,
            id: rule.id.clone(),
            name: if rule.description.trim().is_empty() {
                rule.id.clone()
            } else {
                rule.description.clone()
            },
            provider: PROVIDER.to_string(),
            keywords: rule
                .keywords
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| k.to_lowercase())
                .collect(),
            pattern,
            min_entropy,
            confidence: Confidence::Medium,
            min_char_classes: None,
            checksum: None,
            window: None,
            examples: Vec::new(),
            negative_examples: Vec::new(),
            references: Vec::new(),
            pairs_with: Vec::new(),
            secret_group: Some(secret_group),
            path,
            tags: rule.tags.clone(),
            whole_blob: true,
            origin: RuleOrigin {
                file: file.to_string(),
                line: rule.line,
                source: RuleSource::GitleaksConfig,
            },
        });
    }
    config.notes = notes;
    Ok(config)
}

fn allowlist(
    file: &str,
    line: u64,
    origin: &str,
    raw: &RawAllowlist,
    rule_ids: Vec<String>,
) -> Result<Allowlist, GitleaksError> {
    let compile_all = |patterns: &[String], what: &str| {
        patterns
            .iter()
            .map(|p| {
                let (p, _) = translate(p).map_err(|e| e.to_string())?;
                compile_regex(&p)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| GitleaksError {
                file: file.to_string(),
                line,
                message: format!("{origin}: invalid {what}: {e}"),
            })
    };
    Ok(Allowlist {
        origin: origin.to_string(),
        description: raw.description.clone(),
        rule_ids,
        condition: if raw.all {
            Condition::All
        } else {
            Condition::Any
        },
        secrets: HashSet::new(),
        regexes: compile_all(&raw.regexes, "regex")?,
        regex_target: match raw.regex_target.as_str() {
            "match" => RegexTarget::Match,
            "line" => RegexTarget::Line,
            _ => RegexTarget::Secret,
        },
        stopwords: raw.stopwords.iter().map(|w| w.to_lowercase()).collect(),
        paths: PathMatcher {
            globs: None,
            regexes: compile_all(&raw.paths, "path regex")?,
        },
        commits: raw
            .commits
            .iter()
            .map(|c| c.trim().to_ascii_lowercase())
            .collect(),
    })
}

/// A regex over bytes, translated from Go syntax.
fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let (pattern, _) = translate(pattern).map_err(|e| e.to_string())?;
    regex::bytes::RegexBuilder::new(&pattern)
        .size_limit(8 * 1024 * 1024)
        .build()
        .map_err(|e| e.to_string())
}

/// A Go pattern in Rust syntax: `\Q...\E` quoted, Unicode off where the pattern allows it
/// (so `\w`, `\d`, `\s`, `\b` are ASCII, as in Go). The second value is a note when Unicode
/// had to stay on.
pub fn translate(pattern: &str) -> Result<(String, Option<String>), regex::Error> {
    let pattern = unquote(pattern);
    let ascii = format!("(?-u){pattern}");
    if compile_pattern(&ascii).is_ok() {
        return Ok((ascii, None));
    }
    compile_pattern(&pattern)?;
    Ok((
        pattern,
        Some(
            "regex needs Unicode mode (it uses non-ASCII classes), so its \\w, \\d, \\s and \\b \
             match Unicode characters here but only ASCII in gitleaks"
                .into(),
        ),
    ))
}

/// Replaces Go's `\Q...\E` literal quoting, which Rust's regex lacks, with escapes.
fn unquote(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = find_unescaped(rest, "\\Q") {
        out.push_str(&rest[..start]);
        let quoted = &rest[start + 2..];
        let (literal, after) = match quoted.find("\\E") {
            Some(end) => (&quoted[..end], &quoted[end + 2..]),
            None => (quoted, ""),
        };
        out.push_str(&regex::escape(literal));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The first `needle` (which starts with a backslash) not itself escaped by a backslash.
fn find_unescaped(text: &str, needle: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if text[i..].starts_with(needle) {
                return Some(i);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}
