//! Validators written in code, for signed protocols a request template cannot express: AWS
//! SigV4 (STS GetCallerIdentity), a GCP service-account JWT exchange, Azure Storage
//! SharedKey. A rule names one with `validate: {code: NAME}`. The signing is in [`super::signed`]
//! (pure functions); sending goes through the same client, limiter and retry loop as the
//! declarative validators, so the same safety rules apply.

use std::{collections::BTreeMap, thread, time::Duration, time::SystemTime};

use serde_json::Value;

use super::{
    not_sent, send_and_read,
    signed::{self, SignedRequest, SignedVerdict},
    spec::HttpRequest,
    Context, Job, Outcome, Validation,
};
use crate::rules::{Rule, CODE_VALIDATORS};

/// The rule whose finding carries the key id an AWS secret key is checked with.
const AWS_KEY_ID_RULE: &str = "aws-access-key-id";
const AWS_SESSION_TOKEN_RULE: &str = "aws-session-token";
/// Pause before the one retry of an AWS `SignatureDoesNotMatch` (see `signed::aws`).
const AWS_MISMATCH_PAUSE: Duration = Duration::from_secs(2);

/// The static name of a known code validator.
pub(super) fn lookup(name: &str) -> Option<&'static str> {
    CODE_VALIDATORS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(known, _)| *known)
}

/// The hosts a code validator may contact (`*.` stands for an account's own label).
pub(super) fn hosts(name: &str) -> &'static [&'static str] {
    CODE_VALIDATORS
        .iter()
        .find(|(known, _)| *known == name)
        .map_or(&[], |(_, hosts)| hosts)
}

pub(super) fn check(name: &str, job: &Job, _rule: &Rule, context: &Context) -> Validation {
    match name {
        "aws-sts" => aws(job, context),
        // Both need a value the finding does not carry yet: the whole service-account JSON
        // (GCP) and the storage account name (Azure). The signing code is merged and tested;
        // the engine does not hand these parts over yet.
        "gcp-service-account" => not_sent(Outcome::unverifiable(
            "validator not wired yet: the finding does not carry the whole service-account JSON",
        )),
        "azure-storage" => not_sent(Outcome::unverifiable(
            "validator not wired yet: the finding does not carry the storage account name",
        )),
        _ => not_sent(Outcome::unverifiable("unknown code validator")),
    }
}

/// STS GetCallerIdentity with the key id found next to the secret key (and the session token
/// for temporary `ASIA` keys).
fn aws(job: &Job, context: &Context) -> Validation {
    let Some(key_id) = job.related.get(AWS_KEY_ID_RULE) else {
        return not_sent(Outcome::unverifiable(
            "needs the AWS access key id found next to it (aws-access-key-id within 10 lines)",
        ));
    };
    let session = job.related.get(AWS_SESSION_TOKEN_RULE).map(String::as_str);
    if key_id.starts_with("ASIA") && session.is_none() {
        return not_sent(Outcome::unverifiable(
            "a temporary (ASIA) key needs its session token next to it",
        ));
    }
    let build = || {
        let request =
            signed::aws::caller_identity_request(key_id, &job.secret, session, SystemTime::now());
        http_request(request, signed::aws::STS_HOST)
    };
    let first = send_and_read(&build(), context, read_aws);
    let retry = matches!(&first.outcome, Outcome::Dead { reason }
        if reason.starts_with(signed::aws::SIGNATURE_MISMATCH));
    if !retry {
        return first;
    }
    thread::sleep(AWS_MISMATCH_PAUSE);
    let mut second = send_and_read(&build(), context, read_aws);
    second.requests += first.requests;
    second
}

fn read_aws(response: &super::spec::HttpResponse) -> Outcome {
    let body = String::from_utf8_lossy(&response.body);
    outcome_of(signed::aws::read_caller_identity(response.status, &body))
}

fn http_request(request: SignedRequest, host: &str) -> HttpRequest {
    HttpRequest {
        method: request.method,
        url: request.url,
        host: host.to_string(),
        headers: request.headers,
        body: request.body,
    }
}

fn outcome_of(verdict: SignedVerdict) -> Outcome {
    match verdict {
        SignedVerdict::Live(pairs) => Outcome::Live {
            metadata: pairs
                .into_iter()
                .map(|(k, v)| (k, Value::from(v)))
                .collect::<BTreeMap<_, _>>(),
        },
        SignedVerdict::Dead(reason) => Outcome::Dead { reason },
        SignedVerdict::Unknown(reason) => Outcome::Unknown { reason },
    }
}
