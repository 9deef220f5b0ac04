//! The rule file format as serde reads it. Shared with `build.rs` (through `#[path]`), which
//! parses the built-in rules at build time, so the two readings cannot drift apart. Only
//! `serde`, `serde_saphyr` and `std` may be used here.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

/// A rule file: `rules:` and a list of rules.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub rules: Vec<RawRule>,
}

/// One rule as written; `rules/README.md` documents each field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: Spanned<String>,
    pub name: String,
    pub provider: String,
    pub keywords: Vec<String>,
    pub pattern: Spanned<String>,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    pub confidence: Confidence,
    #[serde(default)]
    pub min_char_classes: Option<u8>,
    #[serde(default)]
    pub checksum: Option<Checksum>,
    #[serde(default)]
    pub window: Option<usize>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub pairs_with: Vec<String>,
    /// Which capture group is the secret: absent, the group named `secret` or group 1; `0`,
    /// the first group that matched something, else the whole match (gitleaks' default).
    #[serde(default)]
    pub secret_group: Option<usize>,
    /// A regex: the rule applies only to files whose path matches (gitleaks `path`).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Run the pattern over the whole blob once any keyword occurs in it (gitleaks' reading
    /// of keywords) rather than near each keyword. Rules without keywords always do.
    #[serde(default)]
    pub whole_blob: bool,
}

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
