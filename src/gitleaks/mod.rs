//! gitleaks and Betterleaks configs: their TOML rules and allowlists, run by our engine.
//!
//! Teams arrive with a `.gitleaks.toml` (or `.betterleaks.toml`) they have tuned for years.
//! [`GitleaksConfig::load`] reads one ([`parse`]), follows `[extend] path`, and converts it
//! ([`convert`]) into leakhound [`Rule`]s and [`Allowlist`]s that keep gitleaks' semantics:
//! a keyword anywhere in a blob runs the regex over the whole blob, an unset `secretGroup`
//! takes the first non-empty capture group, `path` limits a rule to matching files, and the
//! allowlists keep their condition, regex target, stopwords, paths and commits. Whatever
//! cannot be reproduced (Betterleaks filter expressions and validation programs, composite
//! rules, unknown keys) becomes a [`Note`] that the caller prints: nothing is dropped silently.
//!
//! A config found inside a scanned repository is written by whoever can commit there: the
//! rules it adds are marked [`RuleSource::GitleaksConfig`] and never validate anything.

mod convert;
mod parse;
pub mod yaml;

pub use convert::translate;

use std::{fmt, fs, path::Path};

use crate::{
    rules::{Rule, RuleSet, RuleSource},
    suppress::Allowlist,
};

/// The file names looked for at the scanned root, in order.
pub const CONFIG_FILES: [&str; 2] = [".gitleaks.toml", ".betterleaks.toml"];

/// How deep `[extend] path` may chain, as in gitleaks.
const MAX_EXTEND_DEPTH: usize = 2;

/// A config that cannot be used: bad TOML, a bad regex, an empty allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitleaksError {
    pub file: String,
    /// 1-based; 0 when unknown.
    pub line: u64,
    pub message: String,
}

impl fmt::Display for GitleaksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file, self.message),
            line => write!(f, "{}:{line}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for GitleaksError {}

/// Something in the config leakhound read but does not do as gitleaks would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub file: String,
    pub line: u64,
    /// `rule `aws-key``, `[extend]`, `top level`.
    pub place: String,
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": {}: {}", self.place, self.message)
    }
}

/// A converted config.
#[derive(Debug, Default)]
pub struct GitleaksConfig {
    pub file: String,
    /// `[extend] useDefault = true`: the built-in rules stand in for gitleaks' default rules.
    /// Without it the config's rules replace the built-in ones, as in gitleaks.
    pub use_default: bool,
    /// `[extend] disabledRules`.
    pub disabled_rules: Vec<String>,
    pub rules: Vec<Rule>,
    /// Global allowlists (all rules, or `targetRules`) and per-rule ones (`rule_ids` set).
    pub allowlists: Vec<Allowlist>,
    /// Ids of rules without a regex: in gitleaks they extend a default rule of that id.
    pub extension_ids: Vec<String>,
    pub notes: Vec<Note>,
}

impl GitleaksConfig {
    /// Reads a config file and the files it extends.
    pub fn load(path: &Path) -> Result<GitleaksConfig, GitleaksError> {
        let (raw, notes) = load_raw(path, 0)?;
        convert::convert(&path.display().to_string(), raw, notes)
    }

    /// Parses config text (no `[extend] path`: there is no directory to resolve it against).
    pub fn parse(file: &str, text: &str) -> Result<GitleaksConfig, GitleaksError> {
        let (raw, mut notes) = parse::parse(file, text)?;
        if let Some(path) = &raw.extend.path {
            notes.push(Note {
                file: file.to_string(),
                line: 0,
                place: "[extend]".into(),
                message: format!("`path = {path:?}` not followed when parsing text"),
            });
        }
        convert::convert(file, raw, notes)
    }

    /// Applies the config to the rules of a run: replaces the built-in rules unless
    /// `useDefault`, drops `disabledRules`, adds (or overrides, by id) the config's rules.
    /// Returns notes for what did not map.
    pub fn apply(&self, rules: &mut RuleSet) -> Result<Vec<String>, crate::rules::RuleError> {
        let mut notes = Vec::new();
        if self.use_default {
            for id in &self.disabled_rules {
                if rules.get(id).is_none() {
                    notes.push(format!(
                        "{}: disabledRules: no rule `{id}` here (leakhound's built-in ids differ \
                         from gitleaks' default ones; see `leakhound rules list`)",
                        self.file
                    ));
                }
            }
            rules.retain(|rule| !self.disabled_rules.contains(&rule.id));
        } else {
            let before = rules.len();
            rules.retain(|rule| rule.origin.source != RuleSource::Builtin);
            if rules.len() < before {
                notes.push(format!(
                    "{}: no `[extend] useDefault = true`: its rules replace the {} built-in \
                     rules, as in gitleaks",
                    self.file,
                    before - rules.len()
                ));
            }
        }
        rules.retain(|rule| !self.rules.iter().any(|own| own.id == rule.id));
        rules.extend(self.rules.clone())?;
        for id in &self.extension_ids {
            if rules.get(id).is_none() {
                notes.push(format!(
                    "{}: rule `{id}` has no regex and there is no rule `{id}` to extend: its \
                     allowlists apply to nothing",
                    self.file
                ));
            }
        }
        for list in &self.allowlists {
            for id in &list.rule_ids {
                if rules.get(id).is_none() && !self.extension_ids.contains(id) {
                    notes.push(format!(
                        "{}: allowlist targets rule `{id}`, which does not exist here",
                        list.origin
                    ));
                }
            }
        }
        Ok(notes)
    }

    /// What the config does, for a note on stderr.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("{} rules", self.rules.len())];
        parts.push(format!("{} allowlists", self.allowlists.len()));
        parts.push(if self.use_default {
            "built-in rules kept (useDefault)".to_string()
        } else {
            "built-in rules replaced (no useDefault)".to_string()
        });
        if !self.disabled_rules.is_empty() {
            parts.push(format!("{} rules disabled", self.disabled_rules.len()));
        }
        if !self.notes.is_empty() {
            parts.push(format!(
                "{} fields not honoured (listed below)",
                self.notes.len()
            ));
        }
        parts.join(", ")
    }
}

/// Reads a file and, recursively, the one its `[extend] path` names (relative to its own
/// directory), merging them as gitleaks does.
fn load_raw(path: &Path, depth: usize) -> Result<(parse::RawConfig, Vec<Note>), GitleaksError> {
    let file = path.display().to_string();
    let text = fs::read_to_string(path).map_err(|e| GitleaksError {
        file: file.clone(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    let (mut raw, mut notes) = parse::parse(&file, &text)?;
    let Some(base_path) = raw.extend.path.clone() else {
        return Ok((raw, notes));
    };
    if raw.extend.use_default {
        return Err(GitleaksError {
            file,
            line: 0,
            message: "[extend] sets both `path` and `useDefault` (gitleaks refuses this too)"
                .into(),
        });
    }
    if depth >= MAX_EXTEND_DEPTH {
        notes.push(Note {
            file,
            line: 0,
            place: "[extend]".into(),
            message: format!(
                "`path = {base_path:?}` not followed: configs extend at most {MAX_EXTEND_DEPTH} deep, as in gitleaks"
            ),
        });
        return Ok((raw, notes));
    }
    let base_file = path.parent().unwrap_or(Path::new(".")).join(&base_path);
    let (base, base_notes) = load_raw(&base_file, depth + 1)?;
    notes.extend(base_notes);
    raw = convert::merge(raw, base);
    Ok((raw, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suppress::{Condition, RegexTarget};

    #[test]
    fn bad_toml_names_its_line() {
        let err =
            GitleaksConfig::parse("g.toml", "title = 'x'\n\n[[rules]\nid = 'a'\n").unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.to_string().starts_with("g.toml:3: "), "{err}");
    }

    #[test]
    fn bad_regex_and_group_name_the_rule() {
        let text = "\n[[rules]]\nid = 'my-rule'\nregex = '''a(b'''\n";
        let err = GitleaksConfig::parse("g.toml", text).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.message.contains("rule `my-rule`: invalid regex"),
            "{err}"
        );
        let text = "[[rules]]\nid = 'r'\nregex = '''(a)'''\nsecretGroup = 2\n";
        let err = GitleaksConfig::parse("g.toml", text).unwrap_err();
        assert!(err.message.contains("secretGroup 2"), "{err}");
        let text = "[[rules]]\nid = 'r'\nregex = 'a'\n[[rules.allowlists]]\ndescription = 'none'\n";
        assert!(GitleaksConfig::parse("g.toml", text).is_err());
    }

    #[test]
    fn rules_and_allowlists_convert() {
        let text = r#"
[allowlist]
paths = ['''\.lock$''']

[[rules]]
ID = "Mixed_Case"
regex = '''key=(\w+)'''
Entropy = 2
keywords = ["KEY="]
tags = ["t"]
[rules.allowlist]
condition = "AND"
regexTarget = "line"
regexes = ['''\Qa.b\E''']
stopWords = ["Fake"]
commits = ["ABCDEF1234567"]
"#;
        let config = GitleaksConfig::parse("g.toml", text).unwrap();
        assert!(config.notes.is_empty(), "{:?}", config.notes);
        let rule = &config.rules[0];
        assert_eq!(rule.id, "Mixed_Case");
        assert_eq!(rule.keywords, ["key="]);
        assert_eq!(rule.min_entropy, Some(2.0));
        assert_eq!(rule.secret_group, Some(0));
        assert_eq!(rule.origin.source, RuleSource::GitleaksConfig);
        assert!(rule.pattern.starts_with("(?-u)"));
        let global = &config.allowlists[0];
        assert!(global.rule_ids.is_empty());
        assert!(global.paths.matches("deps/Cargo.lock"));
        let own = &config.allowlists[1];
        assert_eq!(own.rule_ids, ["Mixed_Case"]);
        assert_eq!(own.condition, Condition::All);
        assert_eq!(own.regex_target, RegexTarget::Line);
        assert_eq!(own.stopwords, ["fake"]);
        assert_eq!(own.commits, ["abcdef1234567"]);
        assert!(own.regexes[0].is_match(b"xa.by") && !own.regexes[0].is_match(b"xaxb"));
    }

    #[test]
    fn go_classes_stay_ascii() {
        let (pattern, note) = translate(r"\d+").unwrap();
        assert!(note.is_none());
        let regex = crate::engine::compile_pattern(&pattern).unwrap();
        assert!(
            !regex.is_match("٣".as_bytes()),
            "Arabic-Indic digit is not \\d in Go"
        );
        let (_, note) = translate(r"\p{Greek}+").unwrap();
        assert!(note.is_some());
    }

    #[test]
    fn extend_path_merges_like_gitleaks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("base.toml"),
            "[[rules]]\nid = 'a'\nregex = '(x+)'\nkeywords = ['xxx']\n\
             [[rules]]\nid = 'b'\nregex = '(y+)'\n[[rules]]\nid = 'c'\nregex = '(z+)'\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("top.toml"),
            "[extend]\npath = 'base.toml'\ndisabledRules = ['c']\n\
             [[rules]]\nid = 'a'\ndescription = 'Overridden'\nkeywords = ['xx2']\n",
        )
        .unwrap();
        let config = GitleaksConfig::load(&dir.path().join("top.toml")).unwrap();
        let ids: Vec<&str> = config.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(config.rules[0].name, "Overridden");
        assert_eq!(config.rules[0].keywords, ["xxx", "xx2"]);
        assert!(!config.use_default);
    }

    #[test]
    fn yaml_quoting_reads_back() {
        for text in ["it's", r"\b(a|b)\s*'x'", "tab\there", "#not a comment: x"] {
            let yaml = format!("v: {}\n", yaml::quote(text));
            let back: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(&yaml).unwrap();
            assert_eq!(back["v"], text, "{yaml}");
        }
        assert_eq!(yaml::leakhound_id("AWS_Key.v2"), "aws-key.v2");
    }
}
