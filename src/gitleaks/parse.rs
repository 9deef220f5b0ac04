//! Reading gitleaks / Betterleaks TOML into plain structs, noting every key it cannot honour.
//!
//! gitleaks reads its config through viper, whose keys are case-insensitive (`secretGroup`,
//! `secretgroup`, `stopWords` and `stopwords` are one key), so keys are compared lower-cased
//! here. The walk is by hand over a [`toml::Table`] rather than serde derive: a key this module
//! does not know becomes a [`Note`] naming the rule and the key, never an error and never
//! silently dropped.

use toml::{Table, Value};

use super::{GitleaksError, Note};

/// A config file as written.
#[derive(Debug, Default)]
pub struct RawConfig {
    pub extend: Extend,
    pub rules: Vec<RawRule>,
    /// `[allowlist]` (legacy) and `[[allowlists]]`, in file order.
    pub allowlists: Vec<RawAllowlist>,
}

#[derive(Debug, Default)]
pub struct Extend {
    pub use_default: bool,
    pub path: Option<String>,
    pub disabled_rules: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct RawRule {
    pub id: String,
    /// Line of the rule's `[[rules]]` header (0 when it cannot be told).
    pub line: u64,
    pub description: String,
    pub regex: Option<String>,
    pub secret_group: Option<usize>,
    pub entropy: Option<f64>,
    pub keywords: Vec<String>,
    pub path: Option<String>,
    pub tags: Vec<String>,
    pub allowlists: Vec<RawAllowlist>,
    /// `skipReport = true`: only a component of composite rules; never reported alone.
    pub skip_report: bool,
}

#[derive(Debug, Default, Clone)]
pub struct RawAllowlist {
    pub description: String,
    /// `and` / `&&`: every criterion must match; otherwise any one.
    pub all: bool,
    /// `secret` (default), `match` or `line`.
    pub regex_target: String,
    pub regexes: Vec<String>,
    pub paths: Vec<String>,
    pub commits: Vec<String>,
    pub stopwords: Vec<String>,
    /// Global allowlists only: the rules it is limited to.
    pub target_rules: Vec<String>,
}

/// Keys leakhound reads but whose meaning it cannot reproduce, with the reason.
const TOP_NOT_HONOURED: &[(&str, &str)] = &[
    ("filter", "Betterleaks filter expressions are not evaluated"),
    (
        "prefilter",
        "Betterleaks prefilter expressions are not evaluated",
    ),
];
const RULE_NOT_HONOURED: &[(&str, &str)] = &[
    (
        "validate",
        "validation programs never run from a config file; the rule only detects",
    ),
    ("filter", "Betterleaks filter expressions are not evaluated"),
    (
        "required",
        "composite rules are not enforced: the rule reports matches without its required \
         companions (more findings than gitleaks)",
    ),
    ("reportgroup", "report groups are not supported"),
    ("specificity", "Betterleaks specificity is not used"),
    (
        "tokenefficiency",
        "Betterleaks token efficiency filtering is not applied",
    ),
];

/// Parses config text. `file` names it in errors and notes.
pub fn parse(file: &str, text: &str) -> Result<(RawConfig, Vec<Note>), GitleaksError> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| GitleaksError {
        file: file.to_string(),
        line: e.span().map_or(0, |span| line_of(text, span.start)),
        message: e.message().trim().to_string(),
    })?;
    let mut reader = Reader {
        file,
        notes: Vec::new(),
        rule_lines: header_lines(text, "rules"),
    };
    let config = reader.config(&table)?;
    Ok((config, reader.notes))
}

struct Reader<'a> {
    file: &'a str,
    notes: Vec<Note>,
    /// Lines of the `[[rules]]` headers, in order.
    rule_lines: Vec<u64>,
}

/// Where a key sits, for notes and errors: `rule aws-key`, `[[allowlists]] 2`, the top level.
type Place<'a> = &'a str;

impl Reader<'_> {
    fn error(&self, line: u64, message: String) -> GitleaksError {
        GitleaksError {
            file: self.file.to_string(),
            line,
            message,
        }
    }

    fn note(&mut self, line: u64, place: Place, message: String) {
        self.notes.push(Note {
            file: self.file.to_string(),
            line,
            place: place.to_string(),
            message,
        });
    }

    fn config(&mut self, table: &Table) -> Result<RawConfig, GitleaksError> {
        let mut config = RawConfig::default();
        let mut legacy_allowlist = None;
        let mut allowlists = Vec::new();
        for (key, value) in table {
            match key.to_ascii_lowercase().as_str() {
                "title" | "description" | "minversion" | "betterleaksminversion" => {}
                "extend" => config.extend = self.extend(value)?,
                "rules" => {
                    for (index, rule) in array(value).iter().enumerate() {
                        let line = self.rule_lines.get(index).copied().unwrap_or(0);
                        config.rules.push(self.rule(rule, index, line)?);
                    }
                }
                "allowlist" => {
                    legacy_allowlist = Some(self.allowlist(value, "[allowlist]", 0, true)?)
                }
                "allowlists" => {
                    for (index, list) in array(value).iter().enumerate() {
                        let place = format!("[[allowlists]] {}", index + 1);
                        allowlists.push(self.allowlist(list, &place, 0, true)?);
                    }
                }
                other => self.top_level_key(key, other),
            }
        }
        if let Some(legacy) = legacy_allowlist {
            if !allowlists.is_empty() {
                return Err(self.error(
                    0,
                    "[allowlist] is deprecated and cannot be used alongside [[allowlists]] \
                     (gitleaks refuses this too)"
                        .into(),
                ));
            }
            allowlists.push(legacy);
        }
        config.allowlists = allowlists;
        Ok(config)
    }

    fn top_level_key(&mut self, key: &str, lower: &str) {
        let message = match TOP_NOT_HONOURED.iter().find(|(k, _)| *k == lower) {
            Some((_, why)) => format!("`{key}` not honoured: {why}"),
            None => format!("unknown key `{key}` not honoured"),
        };
        self.note(0, "top level", message);
    }

    fn extend(&mut self, value: &Value) -> Result<Extend, GitleaksError> {
        let mut extend = Extend::default();
        let Some(table) = value.as_table() else {
            return Err(self.error(0, "`extend` must be a table".into()));
        };
        for (key, value) in table {
            let place = "[extend]";
            match key.to_ascii_lowercase().as_str() {
                "usedefault" => extend.use_default = self.boolean(value, place, key)?,
                "path" => extend.path = Some(self.string(value, place, key)?),
                "disabledrules" => extend.disabled_rules = self.strings(value, place, key)?,
                "url" => self.note(
                    0,
                    place,
                    "`url` not honoured: leakhound never fetches configs over the network".into(),
                ),
                _ => self.note(0, place, format!("unknown key `{key}` not honoured")),
            }
        }
        Ok(extend)
    }

    fn rule(&mut self, value: &Value, index: usize, line: u64) -> Result<RawRule, GitleaksError> {
        let Some(table) = value.as_table() else {
            return Err(self.error(line, format!("rule {} is not a table", index + 1)));
        };
        let id = match table.iter().find(|(k, _)| k.eq_ignore_ascii_case("id")) {
            Some((_, Value::String(id))) if !id.trim().is_empty() => id.clone(),
            _ => {
                return Err(self.error(line, format!("rule {} has no `id`", index + 1)));
            }
        };
        let place = format!("rule `{id}`");
        let mut rule = RawRule {
            id: id.clone(),
            line,
            ..RawRule::default()
        };
        let mut legacy_allowlist = None;
        for (key, value) in table {
            let lower = key.to_ascii_lowercase();
            match lower.as_str() {
                "id" => {}
                "description" => rule.description = self.string(value, &place, key)?,
                "regex" => rule.regex = Some(self.string(value, &place, key)?),
                "secretgroup" => {
                    let group = self.integer(value, &place, key)?;
                    rule.secret_group = Some(usize::try_from(group).map_err(|_| {
                        self.error(line, format!("{place}: `secretGroup` {group} is negative"))
                    })?);
                }
                "entropy" => rule.entropy = Some(self.float(value, &place, key)?),
                "keywords" => rule.keywords = self.strings(value, &place, key)?,
                "path" => rule.path = Some(self.string(value, &place, key)?),
                "tags" => rule.tags = self.strings(value, &place, key)?,
                "skipreport" => rule.skip_report = self.boolean(value, &place, key)?,
                "allowlist" => {
                    let where_ = format!("{place} [rules.allowlist]");
                    legacy_allowlist = Some(self.allowlist(value, &where_, line, false)?);
                }
                "allowlists" => {
                    for (n, list) in array(value).iter().enumerate() {
                        let where_ = format!("{place} [[rules.allowlists]] {}", n + 1);
                        rule.allowlists
                            .push(self.allowlist(list, &where_, line, false)?);
                    }
                }
                _ => {
                    let message = match RULE_NOT_HONOURED.iter().find(|(k, _)| *k == lower) {
                        Some((_, why)) => format!("`{key}` not honoured: {why}"),
                        None => format!("unknown key `{key}` not honoured"),
                    };
                    self.note(line, &place, message);
                }
            }
        }
        if let Some(legacy) = legacy_allowlist {
            if !rule.allowlists.is_empty() {
                return Err(self.error(
                    line,
                    format!(
                        "{place}: [rules.allowlist] is deprecated and cannot be used alongside \
                         [[rules.allowlists]]"
                    ),
                ));
            }
            rule.allowlists.push(legacy);
        }
        Ok(rule)
    }

    fn allowlist(
        &mut self,
        value: &Value,
        place: &str,
        line: u64,
        global: bool,
    ) -> Result<RawAllowlist, GitleaksError> {
        let Some(table) = value.as_table() else {
            return Err(self.error(line, format!("{place} is not a table")));
        };
        let mut list = RawAllowlist::default();
        for (key, value) in table {
            match key.to_ascii_lowercase().as_str() {
                "description" => list.description = self.string(value, place, key)?,
                "condition" => {
                    let condition = self.string(value, place, key)?;
                    list.all = match condition.to_ascii_uppercase().as_str() {
                        "AND" | "&&" => true,
                        "" | "OR" | "||" => false,
                        _ => {
                            return Err(self.error(
                                line,
                                format!("{place}: unknown condition `{condition}` (and, or)"),
                            ))
                        }
                    };
                }
                "regextarget" => {
                    let target = self.string(value, place, key)?;
                    if !["", "secret", "match", "line"].contains(&target.as_str()) {
                        return Err(self.error(
                            line,
                            format!(
                                "{place}: unknown regexTarget `{target}` (secret, match, line)"
                            ),
                        ));
                    }
                    list.regex_target = target;
                }
                "regexes" => list.regexes = self.strings(value, place, key)?,
                "paths" => list.paths = self.strings(value, place, key)?,
                "commits" => list.commits = self.strings(value, place, key)?,
                "stopwords" => list.stopwords = self.strings(value, place, key)?,
                "targetrules" if global => list.target_rules = self.strings(value, place, key)?,
                _ => self.note(line, place, format!("unknown key `{key}` not honoured")),
            }
        }
        if list.regexes.is_empty()
            && list.paths.is_empty()
            && list.commits.is_empty()
            && list.stopwords.is_empty()
        {
            return Err(self.error(
                line,
                format!(
                    "{place} sets no regexes, paths, commits or stopwords, so it would allow \
                     nothing (gitleaks refuses it too)"
                ),
            ));
        }
        Ok(list)
    }

    fn type_error(&self, place: &str, key: &str, what: &str) -> GitleaksError {
        self.error(0, format!("{place}: `{key}` must be {what}"))
    }

    fn string(&self, value: &Value, place: &str, key: &str) -> Result<String, GitleaksError> {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| self.type_error(place, key, "a string"))
    }

    fn strings(&self, value: &Value, place: &str, key: &str) -> Result<Vec<String>, GitleaksError> {
        value
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|item| item.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| self.type_error(place, key, "an array of strings"))
    }

    fn boolean(&self, value: &Value, place: &str, key: &str) -> Result<bool, GitleaksError> {
        value
            .as_bool()
            .ok_or_else(|| self.type_error(place, key, "true or false"))
    }

    fn integer(&self, value: &Value, place: &str, key: &str) -> Result<i64, GitleaksError> {
        value
            .as_integer()
            .ok_or_else(|| self.type_error(place, key, "an integer"))
    }

    fn float(&self, value: &Value, place: &str, key: &str) -> Result<f64, GitleaksError> {
        match value {
            Value::Float(f) => Ok(*f),
            Value::Integer(i) => Ok(*i as f64),
            _ => Err(self.type_error(place, key, "a number")),
        }
    }
}

/// An array of tables, or a single table (gitleaks accepts `[rules.allowlist]` either way).
fn array(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u64 {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

/// Lines of the `[[name]]` headers, in order.
fn header_lines(text: &str, name: &str) -> Vec<u64> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim();
            line.strip_prefix("[[")
                .and_then(|rest| rest.split("]]").next())
                .is_some_and(|inner| inner.trim() == name)
        })
        .map(|(i, _)| i as u64 + 1)
        .collect()
}
