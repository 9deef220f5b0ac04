//! `leakhound revoke --provider huggingface`: reports leaked Hugging Face tokens to the Hub's
//! public revocation endpoint (anyone may report a leaked token; the Hub revokes it). This is
//! destructive for the token's owner, so it runs only after a confirmation on a terminal or
//! with `--yes`, and it is never part of validation.

use std::{
    io::{self, BufRead, IsTerminal, Write},
    path::PathBuf,
    time::Duration,
};

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use leakhound::{
    engine::Scanner,
    report::mask_secret,
    rules::RuleSet,
    validate::{
        http::{EndpointOverrides, SendError, ValidatorClient, TEST_ENDPOINTS_VAR},
        input::read_findings,
        spec::HttpRequest,
    },
};

use super::{validate::read_input, EXIT_CLEAN, EXIT_ERROR};

/// The Hub's revocation endpoint: `POST {"credentials": [...]}`, no authentication, 202.
const HF_REVOKE_URL: &str = "https://huggingface.co/api/credentials/revoke";
const HF_HOST: &str = "huggingface.co";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    Huggingface,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// Whose revocation endpoint to use.
    #[arg(long, value_enum)]
    provider: Provider,
    /// A JSON or JSONL report written with --show-secrets, or tokens one per line; `-` or
    /// nothing reads standard input.
    #[arg(value_name = "FILE")]
    input: Option<PathBuf>,
    /// Do not ask for confirmation (required when standard input is not a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Tokens per request.
    #[arg(long, value_name = "N", default_value_t = 50)]
    batch_size: usize,
    /// Limit on each request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    timeout: u64,
}

pub const REVOKE_HELP: &str = "\
Revocation is irreversible: every Hugging Face token in the input (hf_…, api_org_…, hf_oauth_…)
is reported to https://huggingface.co/api/credentials/revoke, which revokes it. Asks for
confirmation on a terminal; without one, --yes is required. Each token's result is printed
masked.

Exit codes:
  0  every token was submitted
  2  error, or a submission failed";

pub fn run(args: RevokeArgs) -> Result<u8> {
    let Provider::Huggingface = args.provider;
    let overrides = EndpointOverrides::from_env().map_err(anyhow::Error::msg)?;
    if !overrides.is_empty() {
        eprintln!(
            "leakhound: warning: {TEST_ENDPOINTS_VAR} is set: requests go to local test servers"
        );
    }
    let reading_stdin = args.input.as_ref().is_none_or(|p| p.as_os_str() == "-");
    if !args.yes && (reading_stdin || !io::stdin().is_terminal()) {
        bail!("refusing to revoke without confirmation: no terminal to ask on; pass --yes");
    }
    let tokens = hf_tokens(&args.input)?;
    if tokens.is_empty() {
        eprintln!("leakhound: no Hugging Face tokens in the input; nothing to revoke");
        return Ok(EXIT_CLEAN);
    }
    if !args.yes && !confirm(tokens.len())? {
        eprintln!("leakhound: nothing revoked");
        return Ok(EXIT_CLEAN);
    }
    let client = ValidatorClient::new(Duration::from_secs(args.timeout.max(1)), overrides)
        .map_err(anyhow::Error::msg)?;
    let mut failed = 0;
    let mut out = io::stdout().lock();
    for batch in tokens.chunks(args.batch_size.max(1)) {
        let result = submit(&client, batch);
        if result.is_err() {
            failed += batch.len();
        }
        for token in batch {
            let status = match &result {
                Ok(status) => format!("submitted for revocation (HTTP {status})"),
                Err(reason) => format!("FAILED: {reason}"),
            };
            writeln!(out, "{}  {status}", mask_secret(token))?;
        }
    }
    eprintln!(
        "leakhound: {} of {} tokens submitted to {HF_HOST} for revocation",
        tokens.len() - failed,
        tokens.len()
    );
    Ok(if failed == 0 { EXIT_CLEAN } else { EXIT_ERROR })
}

/// The unique Hugging Face tokens of the input, in input order.
fn hf_tokens(input: &Option<PathBuf>) -> Result<Vec<String>> {
    let (text, name) = read_input(input)?;
    let rules = RuleSet::builtin()?;
    let scanner = Scanner::new(&rules);
    let mut tokens: Vec<String> = Vec::new();
    for finding in read_findings(&text, &name, &scanner, &rules)? {
        if finding.provider == "huggingface" && !tokens.contains(&finding.secret) {
            tokens.push(finding.secret);
        }
    }
    Ok(tokens)
}

fn confirm(count: usize) -> Result<bool> {
    eprint!(
        "Revoke {count} Hugging Face token(s)? They stop working for their owners at once. \
         Type `yes` to continue: "
    );
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// One batch; the Hub answers 202 whether or not the tokens were valid.
fn submit(client: &ValidatorClient, batch: &[String]) -> Result<u16, String> {
    let body = serde_json::json!({ "credentials": batch }).to_string();
    let request = HttpRequest {
        method: "POST",
        url: HF_REVOKE_URL.to_string(),
        host: HF_HOST.to_string(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some(body.into_bytes()),
    };
    match client.send(&request) {
        Ok(response) if (200..300).contains(&response.status) => Ok(response.status),
        Ok(response) => Err(format!("HTTP {}", response.status)),
        Err(SendError::Timeout) => Err("timed out".into()),
        Err(SendError::Network(message) | SendError::Refused(message)) => Err(message),
    }
}
