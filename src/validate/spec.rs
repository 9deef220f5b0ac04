//! The declarative validator of a rule's `validate:` block: building the request for one
//! secret, and reading the provider's answer into an [`Outcome`].
//!
//! The block is checked structurally when the rule is loaded (`RawValidate::check`: https
//! only, a fixed host, known placeholders); here it is compiled once per rule and applied.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use super::Outcome;
use crate::rules::{validate_host, Condition, RawValidate};

/// One HTTP request, ready to send (before the test-endpoint override).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    /// Always `https://<host>/...` for a declarative validator.
    pub url: String,
    /// The host the rule declared: the request may go nowhere else.
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// An answer, as read by the client: status, headers (names lowercase) and the body.
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A compiled `validate:` block with a request (not `code:`).
#[derive(Clone, Debug)]
pub struct HttpSpec {
    method: &'static str,
    url: String,
    host: String,
    headers: Vec<(String, String)>,
    basic_auth: Option<(String, String)>,
    json: Option<String>,
    form: Vec<(String, String)>,
    live: Vec<u16>,
    dead: Vec<u16>,
    live_if: Vec<(String, Vec<String>)>,
    dead_if: Vec<(String, Vec<String>)>,
    json_body: bool,
    metadata: Vec<(String, String)>,
}

/// The values placeholders stand for: the secret, and the secrets of related findings by rule.
#[derive(Clone, Debug, Default)]
pub struct Values<'a> {
    pub secret: &'a str,
    pub related: BTreeMap<&'a str, &'a str>,
}

impl HttpSpec {
    /// Compiles a checked block; `None` for a `code:` block.
    pub fn compile(raw: &RawValidate) -> Result<Option<HttpSpec>, String> {
        raw.check()?;
        let Some(url) = &raw.url else {
            return Ok(None);
        };
        let conditions = |map: &BTreeMap<String, Condition>| {
            map.iter()
                .map(|(path, cond)| (path.clone(), cond.values()))
                .collect()
        };
        Ok(Some(HttpSpec {
            method: if raw.method.as_deref() == Some("POST") {
                "POST"
            } else {
                "GET"
            },
            url: url.clone(),
            host: validate_host(url)?.to_string(),
            headers: raw.headers.clone().into_iter().collect(),
            basic_auth: raw
                .basic_auth
                .as_ref()
                .map(|pair| (pair[0].clone(), pair[1].clone())),
            json: raw.json.clone(),
            form: raw.form.clone().into_iter().collect(),
            live: if raw.live.is_empty() {
                vec![200]
            } else {
                raw.live.clone()
            },
            dead: if raw.dead.is_empty() {
                vec![401]
            } else {
                raw.dead.clone()
            },
            live_if: conditions(&raw.live_if),
            dead_if: conditions(&raw.dead_if),
            json_body: raw.body.as_deref() != Some("any"),
            metadata: raw.metadata.clone().into_iter().collect(),
        }))
    }

    /// The host every request of this validator goes to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Rule ids named by `{related:ID}` placeholders: the finding needs them to be checked.
    pub fn related_rules(&self) -> Vec<String> {
        let mut ids = Vec::new();
        let texts = self
            .headers
            .iter()
            .flat_map(|(k, v)| [k, v])
            .chain(self.form.iter().flat_map(|(k, v)| [k, v]))
            .chain(self.json.iter())
            .chain(self.basic_auth.iter().flat_map(|(u, p)| [u, p]))
            .chain(std::iter::once(&self.url));
        for text in texts {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("{related:") {
                let tail = &rest[start + "{related:".len()..];
                let Some(end) = tail.find('}') else { break };
                if !ids.iter().any(|id| id == &tail[..end]) {
                    ids.push(tail[..end].to_string());
                }
                rest = &tail[end..];
            }
        }
        ids
    }

    /// The request for one secret. Fails when a `{related:ID}` has no value.
    pub fn request(&self, values: &Values) -> Result<HttpRequest, String> {
        let url = fill(&self.url, values, encode_url_part)?;
        let mut headers = Vec::new();
        for (name, value) in &self.headers {
            headers.push((name.clone(), fill(value, values, |s| s.to_string())?));
        }
        if let Some((user, password)) = &self.basic_auth {
            let pair = format!(
                "{}:{}",
                fill(user, values, |s| s.to_string())?,
                fill(password, values, |s| s.to_string())?
            );
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            headers.push(("Authorization".into(), format!("Basic {encoded}")));
        }
        let mut body = None;
        if let Some(json) = &self.json {
            body = Some(fill(json, values, json_escape)?.into_bytes());
            headers.push(("Content-Type".into(), "application/json".into()));
        } else if !self.form.is_empty() {
            let mut pairs = Vec::new();
            for (key, value) in &self.form {
                let value = fill(value, values, |s| s.to_string())?;
                pairs.push(format!("{}={}", encode_form(key), encode_form(&value)));
            }
            body = Some(pairs.join("&").into_bytes());
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        Ok(HttpRequest {
            method: self.method,
            url,
            host: self.host.clone(),
            headers,
            body,
        })
    }

    /// Reads an answer. 429 and 5xx never get here as verdicts (the orchestrator retries
    /// them or calls them unknown), but they are handled anyway.
    pub fn read(&self, response: &HttpResponse, secret: &str) -> Outcome {
        let status = response.status;
        if status == 429 || status >= 500 {
            return Outcome::unknown(format!("HTTP {status}"));
        }
        let text = String::from_utf8_lossy(&response.body);
        let json: Option<Value> = serde_json::from_str(text.trim()).ok();
        if self.json_body
            && json.is_none()
            && !(text.trim().is_empty() && self.dead.contains(&status))
        {
            return Outcome::unknown(format!(
                "HTTP {status} with an unexpected body ({}), not the provider's API answer",
                describe_body(response)
            ));
        }
        let json = json.unwrap_or(Value::Null);
        if !self.dead_if.is_empty() && conditions_hold(&json, &self.dead_if) {
            return Outcome::Dead {
                reason: format!("HTTP {status}, {}", condition_text(&json, &self.dead_if)),
            };
        }
        if self.dead.contains(&status) {
            return Outcome::Dead {
                reason: format!("HTTP {status}"),
            };
        }
        if self.live.contains(&status) {
            if !conditions_hold(&json, &self.live_if) {
                return Outcome::unknown(format!(
                    "HTTP {status} but the body does not say the token is live"
                ));
            }
            return Outcome::Live {
                metadata: self.metadata_of(response, &json, secret),
            };
        }
        Outcome::unknown(format!("unexpected HTTP {status}"))
    }

    /// The declared metadata fields that are present; never the secret itself.
    fn metadata_of(
        &self,
        response: &HttpResponse,
        json: &Value,
        secret: &str,
    ) -> BTreeMap<String, Value> {
        let mut metadata = BTreeMap::new();
        for (name, source) in &self.metadata {
            let value = match source.strip_prefix("header:") {
                Some(header) => response.header(header).map(|v| Value::from(v.trim())),
                None => json_path(json, source),
            };
            let Some(value) = value.filter(|v| !v.is_null()) else {
                continue;
            };
            if secret.len() >= 8 && value.to_string().contains(secret) {
                continue;
            }
            metadata.insert(name.clone(), value);
        }
        metadata
    }
}

/// Replaces placeholders; `encode` is applied to each substituted value.
fn fill(
    template: &str,
    values: &Values,
    encode: impl Fn(&str) -> String,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + values.secret.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let close = tail.find('}').unwrap_or(tail.len() - 1);
        let name = &tail[1..close];
        if name == "secret" {
            out.push_str(&encode(values.secret));
        } else if let Some(rule) = name.strip_prefix("related:") {
            let value = values
                .related
                .get(rule)
                .ok_or_else(|| format!("needs the related `{rule}` next to it"))?;
            out.push_str(&encode(value));
        } else {
            // A JSON body's own brace: keep it and look for placeholders after it.
            out.push('{');
            rest = &tail[1..];
            continue;
        }
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Percent-encodes a value for a URL path or query (unreserved characters and `:` stay).
fn encode_url_part(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~:".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn encode_form(value: &str) -> String {
    encode_url_part(value).replace(':', "%3A")
}

/// A value placed inside a JSON string literal.
fn json_escape(value: &str) -> String {
    let quoted = Value::from(value).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

fn describe_body(response: &HttpResponse) -> String {
    let kind = response.header("content-type").unwrap_or("no content type");
    let text = String::from_utf8_lossy(&response.body);
    if text.trim_start().starts_with('<') {
        format!("{kind}, an HTML page")
    } else if text.trim().is_empty() {
        format!("{kind}, empty")
    } else {
        format!("{kind}, not JSON")
    }
}

/// Whether every condition holds: the field's value (as text) is one of the accepted ones.
fn conditions_hold(json: &Value, conditions: &[(String, Vec<String>)]) -> bool {
    conditions.iter().all(|(path, accepted)| {
        json_path(json, path).is_some_and(|value| accepted.contains(&scalar_text(&value)))
    })
}

fn condition_text(json: &Value, conditions: &[(String, Vec<String>)]) -> String {
    conditions
        .iter()
        .map(|(path, _)| {
            let value = json_path(json, path).map_or_else(String::new, |v| scalar_text(&v));
            format!("{path}: {value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads a dotted path: `auth.accessToken.role`; `orgs[].name` maps over an array (the
/// result is an array); `orgs[0].name` indexes one. `None` when a step is missing.
pub fn json_path(value: &Value, path: &str) -> Option<Value> {
    let mut steps = path.split('.');
    let Some(step) = steps.next() else {
        return Some(value.clone());
    };
    let rest: Vec<&str> = steps.collect();
    let rest = rest.join(".");
    let (key, index) = match step.find('[') {
        Some(open) if step.ends_with(']') => (&step[..open], Some(&step[open + 1..step.len() - 1])),
        _ => (step, None),
    };
    let field = if key.is_empty() {
        value
    } else {
        value.get(key)?
    };
    let next = |v: &Value| {
        if rest.is_empty() {
            Some(v.clone())
        } else {
            json_path(v, &rest)
        }
    };
    match index {
        None => next(field),
        Some("") => {
            let items = field.as_array()?;
            let mapped: Vec<Value> = items.iter().filter_map(next).flat_map(flatten).collect();
            Some(Value::Array(mapped))
        }
        Some(n) => next(field.as_array()?.get(n.parse::<usize>().ok()?)?),
    }
}

/// `[[a, b], [c]]` from a nested map stays readable as `[a, b, c]`.
fn flatten(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(yaml: &str) -> HttpSpec {
        let raw: RawValidate = serde_saphyr::from_str(yaml).unwrap();
        HttpSpec::compile(&raw).unwrap().unwrap()
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("x-oauth-scopes".into(), "repo, gist".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn json_paths() {
        let doc = json!({
            "name": "alice",
            "orgs": [{"name": "acme", "role": "admin"}, {"name": "beta"}],
            "auth": {"accessToken": {"role": "fineGrained",
                "fineGrained": {"scoped": [{"entity": {"name": "acme/x"}, "permissions": ["repo.read", "repo.write"]}]}}},
        });
        assert_eq!(json_path(&doc, "name"), Some(json!("alice")));
        assert_eq!(
            json_path(&doc, "orgs[].name"),
            Some(json!(["acme", "beta"]))
        );
        assert_eq!(json_path(&doc, "orgs[].role"), Some(json!(["admin"])));
        assert_eq!(json_path(&doc, "orgs[1].name"), Some(json!("beta")));
        assert_eq!(
            json_path(&doc, "auth.accessToken.role"),
            Some(json!("fineGrained"))
        );
        assert_eq!(
            json_path(&doc, "auth.accessToken.fineGrained.scoped[].permissions"),
            Some(json!(["repo.read", "repo.write"]))
        );
        assert_eq!(json_path(&doc, "missing.field"), None);
        assert_eq!(json_path(&doc, "name[]"), None);
    }

    #[test]
    fn parses_and_builds_a_request() {
        let spec = spec(
            "url: https://api.example.com/v1/me?key={secret}\n\
             method: POST\n\
             headers: {Authorization: 'Bearer {secret}'}\n\
             json: '{\"token\": \"{secret}\"}'\n",
        );
        let request = spec
            .request(&Values {
                secret: "a b\"c",
                ..Values::default()
            })
            .unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, "https://api.example.com/v1/me?key=a%20b%22c");
        assert_eq!(request.host, "api.example.com");
        assert!(request
            .headers
            .contains(&("Authorization".into(), "Bearer a b\"c".into())));
        assert_eq!(request.body.unwrap(), br#"{"token": "a b\"c"}"#);
    }

    #[test]
    fn basic_auth_and_form() {
        let spec = spec(
            "url: https://api.example.com/x\nbasic_auth: [api, '{secret}']\nform: {credentials: '{secret}'}\n",
        );
        let request = spec
            .request(&Values {
                secret: "k:1",
                ..Values::default()
            })
            .unwrap();
        assert!(request
            .headers
            .contains(&("Authorization".into(), "Basic YXBpOms6MQ==".into())));
        assert_eq!(request.body.unwrap(), b"credentials=k%3A1");
    }

    #[test]
    fn related_placeholder_needs_its_value() {
        let spec =
            spec("url: https://api.example.com/x\nbasic_auth: ['{related:acme-id}', '{secret}']\n");
        assert_eq!(spec.related_rules(), vec!["acme-id".to_string()]);
        let err = spec
            .request(&Values {
                secret: "s",
                ..Values::default()
            })
            .unwrap_err();
        assert!(err.contains("acme-id"), "{err}");
    }

    #[test]
    fn rejects_unsafe_or_unknown() {
        let check = |yaml: &str| {
            let raw: RawValidate = serde_saphyr::from_str(yaml).unwrap();
            raw.check().unwrap_err()
        };
        assert!(check("url: http://api.example.com/x\n").contains("https://"));
        assert!(check("url: https://{secret}.example.com/x\n").contains("fixed"));
        assert!(check("url: https://api.example.com:8443/x\n").contains("fixed"));
        assert!(check("url: https://u@api.example.com/x\n").contains("fixed"));
        assert!(check("url: https://api.example.com/{token}\n").contains("unknown placeholder"));
        assert!(check("url: https://api.example.com/\nlive: [302]\n").contains("302"));
        assert!(check("code: nope\n").contains("unknown code validator"));
        assert!(check("url: https://api.example.com/\nmethod: DELETE\n").contains("DELETE"));
    }

    #[test]
    fn reads_outcomes() {
        let spec = spec(
            "url: https://slack.com/api/auth.test\n\
             live_if: {ok: true}\n\
             dead_if: {error: [invalid_auth, token_revoked]}\n\
             metadata: {team: team, scopes: 'header:X-OAuth-Scopes', token: token}\n",
        );
        let live = spec.read(
            &response(200, r#"{"ok":true,"team":"acme","token":"xoxb-secret-1"}"#),
            "xoxb-secret-1",
        );
        let Outcome::Live { metadata } = live else {
            panic!("{live:?}")
        };
        assert_eq!(metadata["team"], json!("acme"));
        assert_eq!(metadata["scopes"], json!("repo, gist"));
        assert!(
            !metadata.contains_key("token"),
            "the secret is never metadata"
        );
        assert!(matches!(
            spec.read(
                &response(200, r#"{"ok":false,"error":"invalid_auth"}"#),
                "x"
            ),
            Outcome::Dead { .. }
        ));
        assert!(matches!(
            spec.read(&response(200, r#"{"ok":false,"error":"ratelimited"}"#), "x"),
            Outcome::Unknown { .. }
        ));
        assert!(matches!(
            spec.read(&response(401, ""), "x"),
            Outcome::Dead { .. }
        ));
        let html = spec.read(&response(401, "<html>blocked</html>"), "x");
        assert!(
            matches!(&html, Outcome::Unknown { reason } if reason.contains("HTML")),
            "{html:?}"
        );
        assert!(matches!(
            spec.read(&response(503, "{}"), "x"),
            Outcome::Unknown { .. }
        ));
        assert!(matches!(
            spec.read(&response(418, "{}"), "x"),
            Outcome::Unknown { .. }
        ));
    }
}
