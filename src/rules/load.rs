//! Parsing and validating rule files.
//!
//! Every mistake in a rule file becomes a [`RuleError`] that names the file, the rule id (when
//! one can be told) and the line, because a user who mistypes a field in a 300-rule pack must be
//! able to find it without bisecting.

use std::{
    fmt, fs,
    path::{Path, PathBuf},
};

use super::{
    raw::{RawRule, RuleFile},
    Rule, RuleOrigin,
};

/// A mistake in a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    pub rule_id: Option<String>,
    pub line: u64,
    pub message: String,
}

impl RuleError {
    pub fn new(file: &str, rule_id: Option<&str>, line: u64, message: impl Into<String>) -> Self {
        RuleError {
            file: file.to_string(),
            rule_id: rule_id.map(str::to_string),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(id) = &self.rule_id {
            write!(f, ": rule `{id}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RuleError {}

/// Loads one rule file, or every `*.yaml`/`*.yml` file under a directory (sorted by path).
pub fn load_rule_path(path: &Path) -> Result<Vec<Rule>, RuleError> {
    if path.is_dir() {
        let mut files = Vec::new();
        collect_rule_files(path, &mut files)?;
        files.sort();
        let mut rules = Vec::new();
        for file in files {
            rules.extend(load_rule_file(&file)?);
        }
        Ok(rules)
    } else {
        load_rule_file(path)
    }
}

fn collect_rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RuleError> {
    let name = dir.display().to_string();
    let entries = fs::read_dir(dir).map_err(|e| RuleError::new(&name, None, 0, e.to_string()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| RuleError::new(&name, None, 0, e.to_string()))?
            .path();
        if path.is_dir() {
            collect_rule_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads one rule file from disk, validating every pattern.
pub fn load_rule_file(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let name = path.display().to_string();
    let text = fs::read_to_string(path)
        .map_err(|e| RuleError::new(&name, None, 0, format!("cannot read: {e}")))?;
    let rules = parse_rule_text(&name, &text)?;
    for rule in &rules {
        validate_pattern(rule)?;
    }
    Ok(rules)
}

/// Parses rule YAML. Patterns are compiled only by [`load_rule_file`] and `rules check`:
/// built-in rules are compiled by the test suite, and the engine compiles a pattern only when
/// its keywords hit, which keeps a pre-commit start fast.
pub(crate) fn parse_rule_text(file: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    let parsed: RuleFile = serde_saphyr::from_str(text).map_err(|err| {
        let line = err.location().map_or(0, |loc| loc.line());
        let message = err.without_snippet().to_string();
        RuleError::new(
            file,
            rule_id_before_line(text, line).as_deref(),
            line,
            message,
        )
    })?;
    parsed
        .rules
        .into_iter()
        .map(|raw| convert_rule(file, raw))
        .collect()
}

fn convert_rule(file: &str, raw: RawRule) -> Result<Rule, RuleError> {
    let line = raw.id.referenced.line();
    let path = raw
        .path
        .as_deref()
        .map(compile_path)
        .transpose()
        .map_err(|e| RuleError::new(file, Some(&raw.id.value), line, e))?;
    let rule = Rule {
        id: raw.id.value,
        name: raw.name,
        provider: raw.provider,
        keywords: raw.keywords,
        pattern: raw.pattern.value,
        min_entropy: raw.min_entropy,
        confidence: raw.confidence,
        min_char_classes: raw.min_char_classes,
        checksum: raw.checksum,
        window: raw.window,
        examples: raw.examples,
        negative_examples: raw.negative_examples,
        references: raw.references,
        pairs_with: raw.pairs_with,
        validate: raw.validate,
        secret_group: raw.secret_group,
        path,
        tags: raw.tags,
        whole_blob: raw.whole_blob,
        origin: RuleOrigin {
            file: file.to_string(),
            line,
            ..RuleOrigin::default()
        },
    };
    check_fields(&rule)?;
    Ok(rule)
}

/// The checks every rule's fields must pass, built-in or loaded (the pattern is checked apart,
/// by [`validate_pattern`]).
pub(crate) fn check_fields(rule: &Rule) -> Result<(), RuleError> {
    let fail = |message: String| {
        RuleError::new(&rule.origin.file, Some(&rule.id), rule.origin.line, message)
    };
    let id = &rule.id;
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(fail(
            "id must be non-empty lowercase letters, digits, `-` and `.`".into(),
        ));
    }
    if rule.name.trim().is_empty() || rule.provider.trim().is_empty() {
        return Err(fail("name and provider must not be empty".into()));
    }
    if let Some(short) = rule.keywords.iter().find(|k| k.len() < 3) {
        return Err(fail(format!(
            "keyword `{short}` is shorter than 3 bytes and would fire almost everywhere"
        )));
    }
    if let Some(entropy) = rule.min_entropy {
        if !(0.0..=8.0).contains(&entropy) {
            return Err(fail(format!(
                "min_entropy {entropy} is outside 0..=8 bits per byte"
            )));
        }
    }
    if rule.min_char_classes.is_some_and(|n| n > 3) {
        return Err(fail(
            "min_char_classes counts lowercase, uppercase and digits: at most 3".into(),
        ));
    }
    if let Some(window) = rule.window.filter(|w| !(16..=65536).contains(w)) {
        return Err(fail(format!("window {window} is outside 16..=65536 bytes")));
    }
    if let Some(validate) = &rule.validate {
        validate.check().map_err(fail)?;
    }
    Ok(())
}

/// Checks that a pattern compiles and has a capture group for the secret.
pub(crate) fn validate_pattern(rule: &Rule) -> Result<(), RuleError> {
    let fail = |message: String| {
        RuleError::new(&rule.origin.file, Some(&rule.id), rule.origin.line, message)
    };
    let regex = crate::engine::compile_pattern(&rule.pattern)
        .map_err(|e| fail(format!("invalid pattern: {e}")))?;
    let groups = regex.captures_len() - 1;
    match rule.secret_group {
        None if groups == 0 => Err(fail(
            "pattern has no capture group: wrap the secret in ( ) or (?P<secret> ), or set \
             `secret_group: 0` to take the whole match"
                .into(),
        )),
        Some(n) if n > groups => Err(fail(format!(
            "secret_group {n} but the pattern has only {groups} capture groups"
        ))),
        _ => Ok(()),
    }
}

/// Compiles a rule's path regex (matched against root-relative paths with `/` separators).
pub(crate) fn compile_path(path: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::RegexBuilder::new(path)
        .size_limit(8 * 1024 * 1024)
        .build()
        .map_err(|e| format!("invalid path regex `{path}`: {e}"))
}

/// The id of the last rule that starts at or before `line`, so a syntax error deep inside a
/// rule can still name it.
fn rule_id_before_line(text: &str, line: u64) -> Option<String> {
    text.lines()
        .take(line as usize)
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches("- ").trim_start();
            l.strip_prefix("id:")
                .map(|id| id.trim().trim_matches(['"', '\'']).to_string())
        })
        .last()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
rules:
  - id: demo-token
    name: Demo token
    provider: demo
    keywords: [demo_]
    pattern: '\b(demo_[a-z0-9]{16})\b'
    confidence: high
    examples: ['demo_abcdefgh12345678']
"#;

    #[test]
    fn parses_a_rule_with_its_line() {
        let rules = parse_rule_text("demo.yaml", GOOD).unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].id, "demo-token");
        assert_eq!(rules[0].origin.line, 3);
        assert_eq!(rules[0].window, None);
    }

    #[test]
    fn unknown_field_names_rule_and_line() {
        let text = GOOD.replace("confidence: high", "confidence: high\n    patern: x");
        let err = parse_rule_text("demo.yaml", &text).unwrap_err();
        assert_eq!(err.file, "demo.yaml");
        assert_eq!(err.rule_id.as_deref(), Some("demo-token"));
        assert_eq!(err.line, 9);
        assert!(err.message.contains("patern"), "{err}");
    }

    #[test]
    fn missing_capture_group_is_an_error() {
        let text = GOOD.replace(r"'\b(demo_[a-z0-9]{16})\b'", r"'demo_[a-z0-9]{16}'");
        let rules = parse_rule_text("demo.yaml", &text).unwrap();
        let err = validate_pattern(&rules[0]).unwrap_err();
        assert!(err.message.contains("capture group"), "{err}");
        assert_eq!(err.line, 3);
    }

    #[test]
    fn bad_regex_is_an_error() {
        let text = GOOD.replace("{16})", "{16})(");
        let rules = parse_rule_text("demo.yaml", &text).unwrap();
        let err = validate_pattern(&rules[0]).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("demo.yaml:3: rule `demo-token`: invalid pattern"));
    }

    #[test]
    fn short_keyword_is_an_error() {
        let text = GOOD.replace("[demo_]", "[de]");
        let err = parse_rule_text("demo.yaml", &text).unwrap_err();
        assert!(err.message.contains("shorter than 3"), "{err}");
    }

    #[test]
    fn bad_confidence_is_an_error_with_line() {
        let text = GOOD.replace("confidence: high", "confidence: sure");
        let err = parse_rule_text("demo.yaml", &text).unwrap_err();
        assert_eq!(err.line, 8);
        assert_eq!(err.rule_id.as_deref(), Some("demo-token"));
    }
}
