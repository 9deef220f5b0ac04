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
        "gcp-service-account" => gcp(job, context),
        "azure-storage" => azure(job, context),
        _ => not_sent(Outcome::unverifiable("unknown code validator")),
    }
}

/// The parts of a service-account key file the rule captures (`client_email`, `private_key`
/// as written in JSON, optionally `token_uri`), put back together for the JWT exchange.
fn gcp(job: &Job, context: &Context) -> Validation {
    let (Some(email), Some(key)) = (job.parts.get("client_email"), job.parts.get("private_key"))
    else {
        return not_sent(Outcome::unverifiable(
            "needs the key file's private_key and client_email next to private_key_id",
        ));
    };
    // The key is captured as it is written inside a JSON string (`\n` escapes).
    let Ok(key) = serde_json::from_str::<String>(&format!("\"{key}\"")) else {
        return not_sent(Outcome::unverifiable("private_key is not a JSON string"));
    };
    let mut file = serde_json::json!({
        "type": "service_account",
        "private_key_id": job.secret,
        "private_key": key,
        "client_email": email,
    });
    if let Some(uri) = job.parts.get("token_uri") {
        file["token_uri"] = Value::from(uri.as_str());
    }
    let request = match signed::gcp::token_request(&file.to_string(), SystemTime::now()) {
        Ok(request) => request,
        Err(reason) => return not_sent(Outcome::unverifiable(reason)),
    };
    let mut validation = send_and_read(
        &http_request(request, signed::gcp::TOKEN_HOST),
        context,
        |response| {
            let body = String::from_utf8_lossy(&response.body);
            outcome_of(signed::gcp::read_token_response(response.status, &body))
        },
    );
    // Who the key belongs to comes from the file, not the answer.
    if let Outcome::Live { metadata } = &mut validation.outcome {
        for (name, value) in signed::gcp::service_account_metadata(&file.to_string()) {
            metadata.entry(name).or_insert(Value::from(value));
        }
    }
    validation
}

/// Azure Storage list-containers, signed with the account key, for the account named in the
/// same connection string.
fn azure(job: &Job, context: &Context) -> Validation {
    let Some(account) = job.parts.get("account") else {
        return not_sent(Outcome::unverifiable(
            "needs the storage account name (AccountName= in the same connection string)",
        ));
    };
    let request =
        match signed::azure::list_containers_request(account, &job.secret, SystemTime::now()) {
            Ok(request) => request,
            Err(reason) => return not_sent(Outcome::unverifiable(reason)),
        };
    let host = format!("{account}.blob.core.windows.net");
    let mut validation = send_and_read(&http_request(request, &host), context, |response| {
        let body = String::from_utf8_lossy(&response.body);
        outcome_of(signed::azure::read_list_containers(response.status, &body))
    });
    if let Outcome::Live { metadata } = &mut validation.outcome {
        metadata.insert("account".into(), Value::from(account.as_str()));
    }
    validation
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
