//! `.leakhound.yaml`: a project's standing instructions to the scanner.
//!
//! Found at the scanned root (the repository's top directory when a path lies inside a git
//! working tree) or named with `--config FILE`. It can turn rules on and off, add rule files,
//! exclude paths, allowlist known values, add stopwords, set `min_confidence` and the size limit,
//! and name a baseline. A config that sits inside the scanned repository is written by whoever
//! can commit there, so it may only quiet or tighten the scan: rule files it adds can never
//! validate anything or send data anywhere (see `README.md`, "Config"). Every mistake — an
//! unknown key, a rule id that does not exist, a bad glob or regex — is an error that names the
//! file and line.

use std::{
    collections::HashSet,
    fmt, fs,
    path::{Path, PathBuf},
};

use globset::GlobSet;
use regex::bytes::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::{
    rules::{load_rule_path, Confidence, RuleSet},
    source::fs::build_excludes,
    suppress::{Allowlist, Condition, PathMatcher, RegexTarget},
};

/// The file name looked for at the scanned root.
pub const CONFIG_FILE: &str = ".leakhound.yaml";

/// A mistake in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: u64,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The file as written; README.md "Config" documents each key.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    min_confidence: Option<Confidence>,
    #[serde(default)]
    max_file_size: Option<Spanned<SizeText>>,
    #[serde(default)]
    inline_ignores: Option<bool>,
    #[serde(default)]
    other_tool_pragmas: Option<bool>,
    #[serde(default)]
    baseline: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    enable: Vec<Spanned<String>>,
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    enable_providers: Vec<Spanned<String>>,
    #[serde(default)]
    disable_providers: Vec<Spanned<String>>,
    #[serde(default)]
    files: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllowlist {
    #[serde(default)]
    description: String,
    #[serde(default)]
    rules: Vec<Spanned<String>>,
    #[serde(default)]
    condition: Option<RawCondition>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    regexes: Vec<Spanned<String>>,
    #[serde(default)]
    regex_target: Option<RawTarget>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    commits: Vec<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawCondition {
    Any,
    All,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawTarget {
    Secret,
    Match,
    Line,
}

/// `max_file_size: 10M` or `max_file_size: 1048576`.
#[derive(Deserialize)]
#[serde(untagged)]
enum SizeText {
    Bytes(u64),
    Text(String),
}

/// A loaded, checked config.
#[derive(Debug, Default)]
pub struct Config {
    /// The file it came from (for notes and errors).
    pub file: String,
    /// Rule ids and providers to keep (empty: all) and to drop.
    enable: Vec<Spanned<String>>,
    enable_providers: Vec<Spanned<String>>,
    disable: Vec<Spanned<String>>,
    disable_providers: Vec<Spanned<String>>,
    /// Extra rule files, resolved against the config's directory.
    pub rule_files: Vec<PathBuf>,
    pub exclude: Vec<String>,
    pub allowlists: Vec<Allowlist>,
    pub stopwords: Vec<String>,
    pub min_confidence: Option<Confidence>,
    pub max_file_size: Option<u64>,
    pub inline_ignores: Option<bool>,
    pub other_tool_pragmas: Option<bool>,
    pub baseline: Option<PathBuf>,
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let name = path.display().to_string();
        let text = fs::read_to_string(path).map_err(|e| ConfigError {
            file: name.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&name, &text, base)
    }

    /// Parses config text; relative paths in it resolve against `base`.
    pub fn parse(file: &str, text: &str, base: &Path) -> Result<Config, ConfigError> {
        let error = |line: u64, message: String| ConfigError {
            file: file.to_string(),
            line,
            message,
        };
        let raw: RawConfig = if text.trim().is_empty() {
            RawConfig::default()
        } else {
            serde_saphyr::from_str(text).map_err(|err| {
                let line = err.location().map_or(0, |loc| loc.line());
                error(line, err.without_snippet().to_string())
            })?
        };
        let exclude = raw
            .exclude
            .iter()
            .map(|g| g.value.clone())
            .collect::<Vec<_>>();
        for glob in &raw.exclude {
            build_excludes(std::slice::from_ref(&glob.value))
                .map_err(|e| error(glob.referenced.line(), format!("bad `exclude` glob: {e}")))?;
        }
        let max_file_size =
            match raw.max_file_size {
                None => None,
                Some(size) => match size.value {
                    SizeText::Bytes(n) => Some(n),
                    SizeText::Text(text) => Some(parse_size(&text).map_err(|e| {
                        error(size.referenced.line(), format!("`max_file_size`: {e}"))
                    })?),
                },
            };
        let allowlists = raw
            .allowlists
            .into_iter()
            .enumerate()
            .map(|(index, list)| convert_allowlist(file, index, list))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            file: file.to_string(),
            enable: raw.rules.enable,
            enable_providers: raw.rules.enable_providers,
            disable: raw.rules.disable,
            disable_providers: raw.rules.disable_providers,
            rule_files: raw
                .rules
                .files
                .iter()
                .map(|f| base.join(&f.value))
                .collect(),
            exclude,
            allowlists,
            stopwords: raw.stopwords,
            min_confidence: raw.min_confidence,
            max_file_size,
            inline_ignores: raw.inline_ignores,
            other_tool_pragmas: raw.other_tool_pragmas,
            baseline: raw.baseline.map(|b| base.join(b)),
        })
    }

    /// Adds the config's rule files to `rules`, then applies enable/disable. Rule ids and
    /// providers it names must exist, so that a typo does not silently leave a rule on.
    pub fn apply_to_rules(&self, rules: &mut RuleSet) -> Result<(), ConfigError> {
        for path in &self.rule_files {
            let mut loaded = load_rule_path(path).map_err(|e| ConfigError {
                file: self.file.clone(),
                line: 0,
                message: format!("rule file {}: {e}", path.display()),
            })?;
            // A config may sit in the scanned repository, written by anyone who can commit
            // there: the rules it adds find secrets but never send them anywhere, whatever
            // `--allow-rule-validators` says.
            for rule in &mut loaded {
                rule.validate = None;
            }
            rules.extend(loaded).map_err(|e| ConfigError {
                file: self.file.clone(),
                line: 0,
                message: e.to_string(),
            })?;
        }
        let ids: HashSet<&str> = rules.rules().iter().map(|r| r.id.as_str()).collect();
        let providers: HashSet<&str> = rules.rules().iter().map(|r| r.provider.as_str()).collect();
        let check = |names: &[Spanned<String>], known: &HashSet<&str>, what: &str| {
            names.iter().try_for_each(|name| {
                if known.contains(name.value.as_str()) {
                    Ok(())
                } else {
                    Err(ConfigError {
                        file: self.file.clone(),
                        line: name.referenced.line(),
                        message: format!(
                            "unknown {what} `{}` (see `leakhound rules list`)",
                            name.value
                        ),
                    })
                }
            })
        };
        check(&self.enable, &ids, "rule id")?;
        check(&self.disable, &ids, "rule id")?;
        check(&self.enable_providers, &providers, "provider")?;
        check(&self.disable_providers, &providers, "provider")?;
        let listed =
            |names: &[Spanned<String>], value: &str| names.iter().any(|n| n.value == value);
        let only = !self.enable.is_empty() || !self.enable_providers.is_empty();
        rules.retain(|rule| {
            let enabled = !only
                || listed(&self.enable, &rule.id)
                || listed(&self.enable_providers, &rule.provider);
            enabled
                && !listed(&self.disable, &rule.id)
                && !listed(&self.disable_providers, &rule.provider)
        });
        Ok(())
    }

    /// What the config changes, for a note on stderr: a config inside a repository can quiet
    /// a scan, and whoever reads the output should know it did.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let count = |n: usize, what: &str| (n > 0).then(|| format!("{n} {what}"));
        parts.extend(count(
            self.disable.len() + self.disable_providers.len(),
            "rules/providers disabled",
        ));
        if !self.enable.is_empty() || !self.enable_providers.is_empty() {
            parts.push("only selected rules enabled".to_string());
        }
        parts.extend(count(self.rule_files.len(), "rule files added"));
        parts.extend(count(self.exclude.len(), "path excludes"));
        parts.extend(count(self.allowlists.len(), "allowlists"));
        parts.extend(count(self.stopwords.len(), "stopwords"));
        if parts.is_empty() {
            "no changes".to_string()
        } else {
            parts.join(", ")
        }
    }
}

fn convert_allowlist(
    file: &str,
    index: usize,
    raw: RawAllowlist,
) -> Result<Allowlist, ConfigError> {
    let error = |line: u64, message: String| ConfigError {
        file: file.to_string(),
        line,
        message: format!("allowlist {}: {message}", index + 1),
    };
    let regexes = raw
        .regexes
        .iter()
        .map(|re| {
            Regex::new(&re.value).map_err(|e| {
                error(
                    re.referenced.line(),
                    format!("bad regex `{}`: {e}", re.value),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let globs: Vec<String> = raw.paths.iter().map(|p| p.value.clone()).collect();
    let globs: Option<GlobSet> = if globs.is_empty() {
        None
    } else {
        let line = raw.paths[0].referenced.line();
        Some(build_excludes(&globs).map_err(|e| error(line, format!("bad path glob: {e}")))?)
    };
    for commit in &raw.commits {
        if commit.len() < 7 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(error(
                0,
                format!("`{commit}` is not a commit id (7 to 40 hex digits)"),
            ));
        }
    }
    let list = Allowlist {
        origin: format!("{file} allowlist {}", index + 1),
        description: raw.description,
        rule_ids: raw.rules.into_iter().map(|r| r.value).collect(),
        condition: match raw.condition {
            Some(RawCondition::All) => Condition::All,
            _ => Condition::Any,
        },
        secrets: raw.secrets.into_iter().collect(),
        regexes,
        regex_target: match raw.regex_target {
            None | Some(RawTarget::Secret) => RegexTarget::Secret,
            Some(RawTarget::Match) => RegexTarget::Match,
            Some(RawTarget::Line) => RegexTarget::Line,
        },
        stopwords: raw.stopwords.iter().map(|w| w.to_lowercase()).collect(),
        paths: PathMatcher {
            globs,
            regexes: Vec::new(),
        },
        commits: raw.commits.iter().map(|c| c.to_ascii_lowercase()).collect(),
    };
    if list.is_empty() {
        return Err(error(
            0,
            "sets no secrets, regexes, stopwords, paths or commits, so it would allow nothing"
                .to_string(),
        ));
    }
    Ok(list)
}

/// "25M" → 26214400. Suffixes are binary (K = 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("`{text}` is not a size (examples: 1048576, 512K, 25M, 1G)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(".leakhound.yaml", text, Path::new("/repo"))
    }

    #[test]
    fn full_config() {
        let config = parse(
            r#"
min_confidence: medium
max_file_size: 10M
exclude: ["tests/fixtures/**", "*.min.js"]
stopwords: [dummy]
inline_ignores: true
other_tool_pragmas: false
baseline: .leakhound-baseline.json
rules:
  disable: [generic-password-assignment]
  disable_providers: [slack]
allowlists:
  - description: documented sample keys
    secrets: [AKIAIOSFODNN7EXAMPLE]
    regexes: ['^sk_test_']
    paths: ["docs/**"]
"#,
        )
        .unwrap();
        assert_eq!(config.min_confidence, Some(Confidence::Medium));
        assert_eq!(config.max_file_size, Some(10 << 20));
        assert_eq!(config.exclude.len(), 2);
        assert_eq!(config.other_tool_pragmas, Some(false));
        assert_eq!(
            config.baseline,
            Some(PathBuf::from("/repo/.leakhound-baseline.json"))
        );
        assert_eq!(config.allowlists.len(), 1);
        let mut rules = RuleSet::builtin().unwrap();
        let before = rules.len();
        config.apply_to_rules(&mut rules).unwrap();
        assert!(rules.get("generic-password-assignment").is_none());
        assert!(rules.rules().iter().all(|r| r.provider != "slack"));
        assert!(rules.len() < before - 1);
    }

    #[test]
    fn typo_in_a_key_names_key_and_line() {
        let err = parse("min_confidence: high\nexlude: [a]\n").err().unwrap();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.to_string().contains("exlude"), "{err}");
        let err = parse("allowlists:\n  - secret: [x]\n").err().unwrap();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn unknown_rule_id_names_its_line() {
        let config = parse("rules:\n  disable:\n    - generic-pasword-assignment\n").unwrap();
        let err = config
            .apply_to_rules(&mut RuleSet::builtin().unwrap())
            .unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.message.contains("generic-pasword-assignment"));
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse("min_confidence: sure\n").is_err());
        assert!(parse("max_file_size: lots\n")
            .err()
            .unwrap()
            .to_string()
            .contains(":1:"));
        let err = parse("allowlists:\n  - regexes: ['(']\n").err().unwrap();
        assert_eq!(err.line, 2, "{err}");
        assert!(parse("allowlists:\n  - description: nothing\n").is_err());
        assert!(parse("allowlists:\n  - commits: [xyz]\n").is_err());
        assert!(parse("").is_ok());
    }

    #[test]
    fn enable_keeps_only_listed_rules() {
        let config = parse(
            "rules:\n  enable: [github-personal-access-token]\n  enable_providers: [huggingface]\n",
        )
        .unwrap();
        let mut rules = RuleSet::builtin().unwrap();
        config.apply_to_rules(&mut rules).unwrap();
        assert!(rules.get("github-personal-access-token").is_some());
        assert!(rules
            .rules()
            .iter()
            .all(|r| r.id == "github-personal-access-token" || r.provider == "huggingface"));
    }
}
