//! Rules: what a secret looks like, loaded from YAML.
//!
//! A rule names a provider's token format: the literal `keywords` the prefilter looks for, the
//! `pattern` whose capture group is the secret, and the checks a candidate must pass (entropy,
//! checksum). Rules ship in `rules/*.yaml`, embedded at build time (see `build.rs`); users add
//! more with `--rules PATH`. The format is documented in `rules/README.md`.

mod check;
mod load;

pub use check::{check_rules, RuleCheckFailure};
pub use load::{load_rule_file, load_rule_path, RuleError};

use std::fmt;

use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// How sure a rule is that a match is a real secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A structural check on the secret that a format defines, run after the regex matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Checksum {
    /// GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`: CRC-32 of the 30 random characters, base62, 6 chars.
    GithubCrc32,
    /// npm `npm_`: the same CRC-32/base62 scheme over characters `[4..len-6]`.
    NpmCrc32,
    /// JWT: the header segment must be base64url of a JSON object with an `alg` field.
    JwtHeader,
    /// GitLab routable tokens (`glpat-<payload>.01.<len><crc>`): the last 7 characters are the
    /// CRC-32 (IEEE) of everything before them, in lowercase base36, left-padded with `0`.
    GitlabCrc32,
    /// Grafana service account tokens `glsa_<32>_<8 hex>`: the hex is the CRC-32 (IEEE) of
    /// `glsa_<32>`, its four bytes written little-endian.
    GrafanaCrc32,
    /// Bech32 (BIP-173) strings such as age secret keys and Nostr `nsec1` keys: the data part
    /// must carry a valid 6-character Bech32 checksum for its human-readable part.
    Bech32,
    /// Discord bot tokens `<id>.<timestamp>.<hmac>`: the first segment is the bot's numeric
    /// user id (a 17 to 20 digit snowflake) in base64.
    DiscordBotToken,
    /// HTTP Basic credentials in base64 (Docker `auth`, `.npmrc` `_auth`, `Authorization:
    /// Basic`): must decode to printable `user:password` with both parts present.
    BasicAuthBase64,
}

/// One detection rule, as written in a rule file.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Stable identifier, e.g. `huggingface-user-token`. Never reused for another format.
    pub id: String,
    /// Human-readable name, e.g. "Hugging Face user access token".
    pub name: String,
    /// Provider slug, e.g. `huggingface`.
    pub provider: String,
    /// Literals of which at least one must occur near a match (case-insensitive).
    pub keywords: Vec<String>,
    /// Regex over bytes; capture group 1 (or the group named `secret`) is the secret.
    pub pattern: String,
    /// Minimum Shannon entropy of the secret, in bits per byte.
    pub min_entropy: Option<f64>,
    pub confidence: Confidence,
    /// Minimum number of character classes (lowercase, uppercase, digit) in the secret: a
    /// generic rule's value `config.password` has one, a real password usually two or more.
    pub min_char_classes: Option<u8>,
    pub checksum: Option<Checksum>,
    /// How many bytes after a keyword hit a match may end, for formats that span lines (PEM
    /// keys, JSON key files). `None`: the match lies on the keyword's line (at most
    /// [`DEFAULT_WINDOW`] bytes past the keyword on a very long line).
    pub window: Option<usize>,
    /// Inputs that must produce a finding of this rule.
    pub examples: Vec<String>,
    /// Inputs that must not produce a finding of this rule.
    pub negative_examples: Vec<String>,
    pub references: Vec<String>,
    /// Where the rule was defined, for error messages: file and line of its `id`.
    pub origin: RuleOrigin,
}

/// Where a rule was defined.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleOrigin {
    pub file: String,
    pub line: u64,
}

impl fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// How far past a keyword a single-line match may end: long enough for any single-line token
/// and its surrounding assignment, short enough that a hit in a minified file costs little.
pub const DEFAULT_WINDOW: usize = 512;

/// An ordered set of rules with unique ids.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// The rules embedded in the binary from `rules/*.yaml`.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        for (file, text) in BUILTIN_RULE_FILES {
            set.extend(load::parse_rule_text(file, text)?)?;
        }
        Ok(set)
    }

    /// Parses and compiles rules from YAML text; `file` names the text in errors.
    pub fn parse(file: &str, text: &str) -> Result<RuleSet, RuleError> {
        let rules = load::parse_rule_text(file, text)?;
        for rule in &rules {
            load::validate_pattern(rule)?;
        }
        let mut set = RuleSet::default();
        set.extend(rules)?;
        Ok(set)
    }

    /// Adds rules, refusing an id that is already present.
    pub fn extend(&mut self, rules: Vec<Rule>) -> Result<(), RuleError> {
        for rule in rules {
            if let Some(existing) = self.get(&rule.id) {
                return Err(RuleError::new(
                    &rule.origin.file,
                    Some(&rule.id),
                    rule.origin.line,
                    format!("duplicate rule id, first defined at {}", existing.origin),
                ));
            }
            self.rules.push(rule);
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Keeps only the rules at or above `min` confidence.
    pub fn retain_confidence(&mut self, min: Confidence) {
        self.rules.retain(|rule| rule.confidence >= min);
    }
}
