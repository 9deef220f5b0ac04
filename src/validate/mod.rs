//! Live validation: asking each provider whether a found secret still works, and what it
//! grants. Opt-in (`--validate`), after findings are folded and before the report.
//!
//! - Each unique (rule, secret) is checked once per run, however many locations and findings
//!   carry it: N copies of one token cost one request (plus retries on 429).
//! - A rule's validator is declared in its YAML (`validate:`, see [`spec`]) or, for signed
//!   protocols, named there and written in code ([`code`]). Rules from user files may add
//!   validators only with `--allow-rule-validators`.
//! - Requests per provider are limited in concurrency and rate; a 429 is retried at most N
//!   times, honouring `Retry-After` (capped), and pauses that provider.
//! - Outcomes: live (with metadata), dead, unknown (429, 5xx, timeouts, network errors,
//!   redirects, bodies that are not the provider's API answer: never counted as live or dead)
//!   and unverifiable (no validator, or a missing part of the credential).
//! - [`http`] is the only place a request leaves, with the https/host/redirect rules.

mod code;
pub mod http;
pub mod input;
mod limiter;
pub mod signed;
pub mod spec;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Mutex,
    },
    thread,
    time::{Duration, SystemTime},
};

use serde_json::Value;

use crate::{
    finding::Finding,
    rules::{Confidence, Rule, RuleSet},
};
use http::{EndpointOverrides, SendError, ValidatorClient};
use limiter::Limiter;
use spec::{HttpRequest, HttpResponse, HttpSpec, Values};

/// What the provider said about a secret.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The secret works. Metadata: account, scopes, expiry, as the provider reported them.
    Live { metadata: BTreeMap<String, Value> },
    /// The provider says the secret is invalid, revoked or expired.
    Dead { reason: String },
    /// No verdict: rate limited, server error, timeout, network error, unexpected answer.
    Unknown { reason: String },
    /// Not checked: no validator for the rule, or a part of the credential is missing.
    Unverifiable { reason: String },
}

impl Outcome {
    pub fn unknown(reason: impl Into<String>) -> Outcome {
        Outcome::Unknown {
            reason: reason.into(),
        }
    }

    pub fn unverifiable(reason: impl Into<String>) -> Outcome {
        Outcome::Unverifiable {
            reason: reason.into(),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Live { .. } => "live",
            Outcome::Dead { .. } => "dead",
            Outcome::Unknown { .. } => "unknown",
            Outcome::Unverifiable { .. } => "unverifiable",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Live { .. } => None,
            Outcome::Dead { reason }
            | Outcome::Unknown { reason }
            | Outcome::Unverifiable { reason } => Some(reason),
        }
    }

    pub fn metadata(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Outcome::Live { metadata } => Some(metadata),
            _ => None,
        }
    }
}

/// The result of validating one finding.
#[derive(Clone, Debug, PartialEq)]
pub struct Validation {
    pub outcome: Outcome,
    /// When the provider answered (RFC 3339, UTC); `None` when nothing was sent.
    pub checked_at: Option<String>,
    /// Requests sent for this secret, retries included (0 when nothing was sent).
    pub requests: u32,
}

impl Validation {
    /// The JSON object reports carry (JSON, JSONL, SARIF properties).
    pub fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        object.insert("outcome".into(), Value::from(self.outcome.as_str()));
        if let Some(reason) = self.outcome.reason() {
            object.insert("reason".into(), Value::from(reason));
        }
        if let Some(metadata) = self.outcome.metadata() {
            let metadata = metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            object.insert("metadata".into(), Value::Object(metadata));
        }
        if let Some(at) = &self.checked_at {
            object.insert("checked_at".into(), Value::from(at.as_str()));
        }
        Value::Object(object)
    }

    /// One line for the human report: `live (user: alice; scopes: repo) at …`.
    pub fn describe(&self) -> String {
        let mut text = self.outcome.as_str().to_string();
        if let Some(metadata) = self.outcome.metadata().filter(|m| !m.is_empty()) {
            let parts: Vec<String> = metadata
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect();
            text.push_str(&format!(" ({})", parts.join("; ")));
        }
        if let Some(reason) = self.outcome.reason() {
            text.push_str(&format!(": {reason}"));
        }
        if let Some(at) = &self.checked_at {
            text.push_str(&format!(", checked {at}"));
        }
        text
    }
}

/// How validation runs, validated from the command line before any work.
#[derive(Clone, Debug)]
pub struct ValidateConfig {
    /// Limit on one request.
    pub timeout: Duration,
    /// Retries of a request answered with 429.
    pub retries: u32,
    /// Longest `Retry-After` honoured; a longer one is capped to this.
    pub max_retry_wait: Duration,
    /// Requests per second to one provider.
    pub rps: f64,
    /// Requests in flight to one provider.
    pub concurrency: usize,
    /// Honour `validate:` blocks of rules loaded from user files.
    pub allow_rule_validators: bool,
    pub overrides: EndpointOverrides,
}

impl Default for ValidateConfig {
    fn default() -> Self {
        ValidateConfig {
            timeout: Duration::from_secs(10),
            retries: 2,
            max_retry_wait: Duration::from_secs(30),
            rps: 5.0,
            concurrency: 2,
            allow_rule_validators: false,
            overrides: EndpointOverrides::default(),
        }
    }
}

/// What a run of validation did, for the summary and notes.
#[derive(Clone, Debug, Default)]
pub struct ValidationRun {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Unique (rule, secret) pairs checked.
    pub unique: usize,
    /// Findings per outcome.
    pub counts: OutcomeCounts,
    pub notes: Vec<String>,
}

/// How to check one rule's secrets.
enum Checker {
    Http(Box<HttpSpec>),
    Code(&'static str),
    None(String),
}

/// One unique (rule, secret, related parts) to check.
struct Job {
    rule: usize,
    provider: String,
    secret: String,
    related: BTreeMap<String, String>,
    /// Named parts of the match (see `Finding::parts`), from the first finding of the job.
    parts: BTreeMap<String, String>,
}

/// Validates every finding in place: sets `finding.validation`.
pub fn validate_findings(
    findings: &mut [Finding],
    rules: &RuleSet,
    config: &ValidateConfig,
) -> Result<ValidationRun, String> {
    let mut run = ValidationRun::default();
    let checkers = checkers(rules, config, &mut run.notes);
    let client = ValidatorClient::new(config.timeout, config.overrides.clone())?;
    let secrets_by_id: HashMap<String, (String, String)> = findings
        .iter()
        .map(|f| (f.id.clone(), (f.rule_id.clone(), f.secret.clone())))
        .collect();

    // Dedup: one job per (rule, secret, related parts); findings point at their job.
    let mut jobs: Vec<Job> = Vec::new();
    let mut job_of: HashMap<(usize, String, BTreeMap<String, String>), usize> = HashMap::new();
    let mut assignment: Vec<Option<usize>> = Vec::with_capacity(findings.len());
    for finding in findings.iter() {
        let Some(rule) = rules.rules().iter().position(|r| r.id == finding.rule_id) else {
            assignment.push(None);
            continue;
        };
        let related: BTreeMap<String, String> = finding
            .related
            .iter()
            .filter_map(|r| secrets_by_id.get(&r.finding_id).cloned())
            .collect();
        let key = (rule, finding.secret.clone(), related.clone());
        let index = *job_of.entry(key).or_insert_with(|| {
            jobs.push(Job {
                rule,
                provider: rules.rules()[rule].provider.clone(),
                secret: finding.secret.clone(),
                related,
                parts: finding.parts.clone(),
            });
            jobs.len() - 1
        });
        assignment.push(Some(index));
    }
    run.unique = jobs.len();

    let results = run_jobs(&jobs, rules.rules(), &checkers, &client, config);
    run.requests = results.iter().map(|v| u64::from(v.requests)).sum();
    for (finding, job) in findings.iter_mut().zip(assignment) {
        finding.validation = Some(match job {
            Some(index) => results[index].clone(),
            None => not_sent(Outcome::unverifiable("rule not loaded")),
        });
    }
    run.counts = OutcomeCounts::of(findings).unwrap_or_default();
    Ok(run)
}

/// A checker per rule, by index; notes when user-file validators are ignored.
fn checkers(rules: &RuleSet, config: &ValidateConfig, notes: &mut Vec<String>) -> Vec<Checker> {
    let mut ignored = Vec::new();
    let checkers = rules
        .rules()
        .iter()
        .map(|rule| match &rule.validate {
            None => Checker::None("no validator for this rule".into()),
            Some(_) if !rule.origin.is_builtin() && !config.allow_rule_validators => {
                ignored.push(rule.id.clone());
                Checker::None(
                    "validator from a user rule file ignored (see --allow-rule-validators)".into(),
                )
            }
            Some(raw) => match HttpSpec::compile(raw) {
                Ok(Some(spec)) => Checker::Http(Box::new(spec)),
                Ok(None) => code::lookup(raw.code.as_deref().unwrap_or_default()).map_or_else(
                    || Checker::None("unknown code validator".into()),
                    Checker::Code,
                ),
                Err(message) => Checker::None(message),
            },
        })
        .collect();
    if !ignored.is_empty() {
        notes.push(format!(
            "validate blocks of {} rule(s) from user rule files were ignored ({}): pass \
             --allow-rule-validators to let them send secrets",
            ignored.len(),
            ignored.join(", ")
        ));
    }
    checkers
}

/// Runs the jobs on a few threads; the limiter keeps each provider within its limits.
fn run_jobs(
    jobs: &[Job],
    rules: &[Rule],
    checkers: &[Checker],
    client: &ValidatorClient,
    config: &ValidateConfig,
) -> Vec<Validation> {
    let limiter = Limiter::new(config.rps, config.concurrency.max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Validation>>> = Mutex::new(vec![None; jobs.len()]);
    let requests = AtomicU64::new(0);
    let workers = jobs.len().clamp(1, 8);
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(index) else { break };
                let context = Context {
                    client,
                    limiter: &limiter,
                    config,
                    provider: &job.provider,
                };
                let validation = check(job, &rules[job.rule], &checkers[job.rule], &context);
                requests.fetch_add(u64::from(validation.requests), Ordering::Relaxed);
                results.lock().unwrap()[index] = Some(validation);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|v| v.expect("every job ran"))
        .collect()
}

/// What one check needs besides the job.
struct Context<'a> {
    client: &'a ValidatorClient,
    limiter: &'a Limiter,
    config: &'a ValidateConfig,
    provider: &'a str,
}

fn not_sent(outcome: Outcome) -> Validation {
    Validation {
        outcome,
        checked_at: None,
        requests: 0,
    }
}

fn check(job: &Job, rule: &Rule, checker: &Checker, context: &Context) -> Validation {
    match checker {
        Checker::None(reason) => not_sent(Outcome::unverifiable(reason.clone())),
        Checker::Code(name) => code::check(name, job, rule, context),
        Checker::Http(spec) => {
            let values = Values {
                secret: &job.secret,
                related: job
                    .related
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            };
            let request = match spec.request(&values) {
                Ok(request) => request,
                Err(reason) => return not_sent(Outcome::unverifiable(reason)),
            };
            send_and_read(&request, context, |response| {
                spec.read(response, &job.secret)
            })
        }
    }
}

/// Sends a request within the provider's limits, retrying 429s, and reads the answer.
fn send_and_read(
    request: &HttpRequest,
    context: &Context,
    read: impl Fn(&HttpResponse) -> Outcome,
) -> Validation {
    let mut requests = 0;
    let mut attempt = 0;
    loop {
        let permit = context.limiter.acquire(context.provider);
        requests += 1;
        let result = context.client.send(request);
        drop(permit);
        let checked_at = Some(now_rfc3339());
        let done = |outcome| Validation {
            outcome,
            checked_at: checked_at.clone(),
            requests,
        };
        let response = match result {
            Ok(response) => response,
            Err(SendError::Timeout) => {
                return done(Outcome::unknown(format!(
                    "timed out after {:?}",
                    context.config.timeout
                )))
            }
            Err(SendError::Network(message)) => {
                return done(Outcome::unknown(format!("network error: {message}")))
            }
            Err(SendError::Refused(message)) => {
                return not_sent(Outcome::unverifiable(format!("request refused: {message}")))
            }
        };
        if (300..400).contains(&response.status) {
            let to = response.header("location").unwrap_or("nowhere");
            let to = to.split('?').next().unwrap_or_default();
            return done(Outcome::unknown(format!(
                "HTTP {} redirect to {to} not followed",
                response.status
            )));
        }
        if response.status == 429 {
            if attempt < context.config.retries {
                attempt += 1;
                let wait = retry_after(&response)
                    .unwrap_or(Duration::from_secs(1) * attempt)
                    .min(context.config.max_retry_wait);
                context.limiter.pause(context.provider, wait);
                continue;
            }
            return done(Outcome::unknown(format!(
                "rate limited (HTTP 429) after {requests} requests"
            )));
        }
        return done(read(&response));
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the providers here).
fn retry_after(response: &HttpResponse) -> Option<Duration> {
    let value = response.header("retry-after")?.trim();
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

fn now_rfc3339() -> String {
    let seconds = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::source::git::rfc3339(seconds, 0).replace("+00:00", "Z")
}

/// How many findings had each outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    pub live: usize,
    pub dead: usize,
    pub unknown: usize,
    pub unverifiable: usize,
}

impl OutcomeCounts {
    /// `None` when nothing was validated.
    pub fn of(findings: &[Finding]) -> Option<OutcomeCounts> {
        let mut counts = OutcomeCounts::default();
        let mut any = false;
        for validation in findings.iter().filter_map(|f| f.validation.as_ref()) {
            any = true;
            match validation.outcome {
                Outcome::Live { .. } => counts.live += 1,
                Outcome::Dead { .. } => counts.dead += 1,
                Outcome::Unknown { .. } => counts.unknown += 1,
                Outcome::Unverifiable { .. } => counts.unverifiable += 1,
            }
        }
        any.then_some(counts)
    }
}

/// `--only-live`: keeps live findings and, unless `strict`, unverifiable ones of high
/// confidence (a private key has no validator, and dropping it silently would hide it).
/// Returns how many unverifiable findings were kept.
pub fn retain_live(findings: &mut Vec<Finding>, strict: bool) -> usize {
    let mut kept_unverifiable = 0;
    findings.retain(
        |finding| match finding.validation.as_ref().map(|v| &v.outcome) {
            Some(Outcome::Live { .. }) => true,
            Some(Outcome::Unverifiable { .. })
                if !strict && finding.confidence == Confidence::High =>
            {
                kept_unverifiable += 1;
                true
            }
            _ => false,
        },
    );
    kept_unverifiable
}

/// Every host validation may contact: (host, provider, rule ids), sorted by host.
pub fn endpoints(
    rules: &RuleSet,
    allow_rule_validators: bool,
) -> Vec<(String, String, Vec<String>)> {
    let mut by_host: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for rule in rules.rules() {
        let Some(raw) = &rule.validate else { continue };
        if !rule.origin.is_builtin() && !allow_rule_validators {
            continue;
        }
        let hosts: Vec<String> = match (&raw.code, HttpSpec::compile(raw)) {
            (_, Ok(Some(spec))) => vec![spec.host().to_string()],
            (Some(code), _) => code::hosts(code).iter().map(|h| h.to_string()).collect(),
            _ => Vec::new(),
        };
        for host in hosts {
            by_host
                .entry((host, rule.provider.clone()))
                .or_default()
                .push(rule.id.clone());
        }
    }
    by_host
        .into_iter()
        .map(|((host, provider), ids)| (host, provider, ids))
        .collect()
}
