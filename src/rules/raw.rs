//! The rule file format as serde reads it. Shared with `build.rs` (through `#[path]`), which
//! parses the built-in rules at build time, so the two readings cannot drift apart. Only
//! `serde`, `serde_saphyr` and `std` may be used here.

use std::{collections::BTreeMap, fmt};

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
    /// How to ask the provider whether a found secret is live (`rules/README.md`,
    /// "Validation").
    #[serde(default)]
    pub validate: Option<RawValidate>,
}

/// A rule's `validate:` block: either one side-effect-free HTTP request and how to read its
/// answer, or (`code:`) the name of a validator written in Rust for a signed protocol.
/// Checked by [`RawValidate::check`] at build time (built-in rules) and at load time.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValidate {
    /// A validator written in code: `aws-sts`, `gcp-service-account`, `azure-storage`.
    #[serde(default)]
    pub code: Option<String>,
    /// `GET` (default) or `POST`.
    #[serde(default)]
    pub method: Option<String>,
    /// An `https://` URL with a fixed host; placeholders only in the path and query.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `[user, password]` sent as `Authorization: Basic base64(user:password)`.
    #[serde(default)]
    pub basic_auth: Option<Vec<String>>,
    /// A JSON body (sent with `Content-Type: application/json`).
    #[serde(default)]
    pub json: Option<String>,
    /// A form body (`application/x-www-form-urlencoded`).
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// Statuses that mean live (default `[200]`).
    #[serde(default)]
    pub live: Vec<u16>,
    /// Statuses that mean dead (default `[401]`).
    #[serde(default)]
    pub dead: Vec<u16>,
    /// JSON fields that must hold these values for a live status to count as live.
    #[serde(default)]
    pub live_if: BTreeMap<String, Condition>,
    /// JSON fields whose values mean dead, whatever the status (Slack's `ok: false`).
    #[serde(default)]
    pub dead_if: BTreeMap<String, Condition>,
    /// `json` (default): a verdict needs a JSON body (an empty one is fine for dead), so an
    /// HTML firewall page is unknown. `any`: any body.
    #[serde(default)]
    pub body: Option<String>,
    /// Report name → dotted JSON path (`orgs[].name`) or `header:<name>`.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// The expected value of a JSON field: a scalar, or a list of which any may match.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    Bool(bool),
    Number(i64),
    Text(String),
    AnyOf(Vec<String>),
}

impl Condition {
    /// The accepted values as text (`true`, `42`, `invalid_auth`).
    pub fn values(&self) -> Vec<String> {
        match self {
            Condition::Bool(b) => vec![b.to_string()],
            Condition::Number(n) => vec![n.to_string()],
            Condition::Text(t) => vec![t.clone()],
            Condition::AnyOf(list) => list.clone(),
        }
    }
}

/// The code validators `validate: {code: …}` may name, and the hosts each contacts
/// (`*.` stands for one account-specific label).
pub const CODE_VALIDATORS: &[(&str, &[&str])] = &[
    ("aws-sts", &["sts.amazonaws.com"]),
    ("gcp-service-account", &["oauth2.googleapis.com"]),
    ("azure-storage", &["*.blob.core.windows.net"]),
];

/// Placeholders a request may use: the secret, and the secret of a related finding.
pub const PLACEHOLDER_HELP: &str = "{secret} or {related:RULE-ID}";

impl RawValidate {
    /// The structural checks shared by build.rs and the loader: https only, a fixed host,
    /// known placeholders, statuses in range, a known code validator.
    pub fn check(&self) -> Result<(), String> {
        if let Some(code) = &self.code {
            if !CODE_VALIDATORS.iter().any(|(name, _)| name == code) {
                let names: Vec<&str> = CODE_VALIDATORS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "validate: unknown code validator `{code}` (known: {})",
                    names.join(", ")
                ));
            }
            if self.url.is_some() || self.method.is_some() || !self.headers.is_empty() {
                return Err("validate: `code` cannot be combined with a request".into());
            }
            return Ok(());
        }
        let url = self
            .url
            .as_deref()
            .ok_or("validate: needs `url` (or `code`)")?;
        validate_host(url)?;
        match self.method.as_deref() {
            None | Some("GET") | Some("POST") => {}
            Some(other) => return Err(format!("validate: method `{other}`: only GET and POST")),
        }
        if self.json.is_some() && !self.form.is_empty() {
            return Err("validate: give `json` or `form`, not both".into());
        }
        if self.basic_auth.as_ref().is_some_and(|b| b.len() != 2) {
            return Err("validate: basic_auth is [user, password]".into());
        }
        if let Some(status) = self
            .live
            .iter()
            .chain(&self.dead)
            .find(|s| !(100..=599).contains(*s) || (300..400).contains(*s))
        {
            return Err(format!(
                "validate: status {status} cannot be a verdict (100..599, redirects are never followed)"
            ));
        }
        if let Some(body) = self.body.as_deref().filter(|b| *b != "json" && *b != "any") {
            return Err(format!("validate: body `{body}`: expected json or any"));
        }
        for (name, source) in &self.metadata {
            let path = source.strip_prefix("header:").unwrap_or(source);
            if path.is_empty() || path.contains(' ') {
                return Err(format!("validate: metadata `{name}`: bad path `{source}`"));
            }
        }
        let texts = self
            .headers
            .iter()
            .flat_map(|(k, v)| [k.as_str(), v.as_str()])
            .chain(self.form.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))
            .chain(self.json.as_deref())
            .chain(self.basic_auth.iter().flatten().map(String::as_str))
            .chain(std::iter::once(url));
        for text in texts {
            check_placeholders(text)?;
        }
        Ok(())
    }
}

/// The host of an `https://host/...` URL with no placeholder, port, credentials or fragment
/// before the path.
pub fn validate_host(url: &str) -> Result<&str, String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("validate: url `{url}` must start with https://"))?;
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !valid || url.contains('#') {
        return Err(format!(
            "validate: url `{url}`: the host must be a fixed lowercase name (no placeholder, \
             port or credentials) and the URL has no fragment"
        ));
    }
    Ok(host)
}

/// Every `{...}` in `text` must be a known placeholder.
fn check_placeholders(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("validate: unclosed `{{` in `{text}`"))?;
        let name = &rest[open + 1..open + close];
        let known = name == "secret"
            || name
                .strip_prefix("related:")
                .is_some_and(|id| !id.is_empty());
        // A JSON body has its own braces: only names that look like placeholders count.
        let looks_like_placeholder = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b':' || b == b'-' || b == b'_');
        if looks_like_placeholder && !known {
            return Err(format!(
                "validate: unknown placeholder `{{{name}}}` (known: {PLACEHOLDER_HELP})"
            ));
        }
        rest = &rest[open + 1..];
    }
    Ok(())
}

impl RawValidate {
    /// A Rust expression that rebuilds this value, for build.rs's static table.
    pub fn to_rust(&self) -> String {
        fn s(v: &str) -> String {
            format!("{v:?}.to_string()")
        }
        fn opt(v: &Option<String>) -> String {
            v.as_deref()
                .map_or("None".into(), |v| format!("Some({})", s(v)))
        }
        fn map(m: &BTreeMap<String, String>) -> String {
            if m.is_empty() {
                return "Default::default()".into();
            }
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("({}, {})", s(k), s(v)))
                .collect();
            format!("[{}].into_iter().collect()", items.join(", "))
        }
        fn conds(m: &BTreeMap<String, Condition>) -> String {
            if m.is_empty() {
                return "Default::default()".into();
            }
            let items: Vec<String> = m
                .iter()
                .map(|(k, c)| {
                    let c = match c {
                        Condition::Bool(b) => format!("raw::Condition::Bool({b})"),
                        Condition::Number(n) => format!("raw::Condition::Number({n})"),
                        Condition::Text(t) => format!("raw::Condition::Text({})", s(t)),
                        Condition::AnyOf(l) => {
                            let l: Vec<String> = l.iter().map(|v| s(v)).collect();
                            format!("raw::Condition::AnyOf(vec![{}])", l.join(", "))
                        }
                    };
                    format!("({}, {c})", s(k))
                })
                .collect();
            format!("[{}].into_iter().collect()", items.join(", "))
        }
        let basic = self.basic_auth.as_ref().map_or("None".into(), |b| {
            let b: Vec<String> = b.iter().map(|v| s(v)).collect();
            format!("Some(vec![{}])", b.join(", "))
        });
        format!(
            "raw::RawValidate {{ code: {}, method: {}, url: {}, headers: {}, basic_auth: {basic}, \
             json: {}, form: {}, live: vec!{:?}, dead: vec!{:?}, live_if: {}, dead_if: {}, \
             body: {}, metadata: {} }}",
            opt(&self.code),
            opt(&self.method),
            opt(&self.url),
            map(&self.headers),
            opt(&self.json),
            map(&self.form),
            self.live,
            self.dead,
            conds(&self.live_if),
            conds(&self.dead_if),
            opt(&self.body),
            map(&self.metadata),
        )
    }
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
