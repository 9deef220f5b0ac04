//! Live validation on the command line: the `--validate` flags of `scan` and `hf`, and
//! `leakhound validate [FILE|-]`, which validates the secrets of a previous report or a list
//! of raw tokens.

use std::{fs, io::Read, path::PathBuf, time::Duration};

use anyhow::{bail, Context, Result};
use clap::Args;
use leakhound::{
    engine::Scanner,
    pipeline::ScanOutput,
    rules::RuleSet,
    validate::{
        self,
        http::{EndpointOverrides, TEST_ENDPOINTS_VAR},
        input::read_findings,
        ValidateConfig,
    },
};

use super::{output::OutputArgs, RuleArgs};

/// How validation runs; shared by `scan --validate`, `hf --validate` and `validate`.
#[derive(Args, Clone)]
#[command(next_help_heading = "Validation")]
pub struct ValidationOptions {
    /// Report only live secrets, plus high-confidence findings no validator can check (such as
    /// private keys) unless --strict.
    #[arg(long)]
    pub only_live: bool,
    /// With --only-live, drop unverifiable findings too.
    #[arg(long, requires = "only_live")]
    pub strict: bool,
    /// Limit on each validation request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub validate_timeout: f64,
    /// Retries of a request the provider answers with 429 (Retry-After is honoured, up to 30 s).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub validate_retries: u32,
    /// Requests per second to any one provider.
    #[arg(long, value_name = "N", default_value_t = 5.0)]
    pub validate_rps: f64,
    /// Requests in flight to any one provider.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub validate_concurrency: usize,
    /// Let `validate:` blocks of rules loaded with --rules send secrets (off: they are ignored,
    /// with a note). Built-in rules' validators always apply.
    #[arg(long)]
    pub allow_rule_validators: bool,
}

/// `--validate` plus its options, flattened into `scan` and `hf`.
#[derive(Args, Clone)]
#[command(next_help_heading = "Validation")]
pub struct ValidateArgs {
    /// Ask each provider whether the secrets found are live (one request per unique rule and
    /// secret; see `leakhound rules endpoints` for the hosts contacted).
    #[arg(long)]
    pub validate: bool,
    #[command(flatten)]
    pub options: ValidationOptions,
}

impl ValidateArgs {
    /// The validated config, or `None` without `--validate` (or `--only-live`, which implies it).
    pub fn config(&self) -> Result<Option<ValidateConfig>> {
        if !self.validate && !self.options.only_live {
            return Ok(None);
        }
        self.options.config().map(Some)
    }
}

impl ValidationOptions {
    /// Checks the numbers and reads the test-endpoint override; says so when it is active.
    pub fn config(&self) -> Result<ValidateConfig> {
        if !(self.validate_timeout > 0.0 && self.validate_timeout <= 600.0) {
            bail!("--validate-timeout must be between 0 and 600 seconds");
        }
        if !(self.validate_rps > 0.0 && self.validate_rps <= 1000.0) {
            bail!("--validate-rps must be between 0 and 1000");
        }
        if self.validate_concurrency == 0 || self.validate_retries > 10 {
            bail!("--validate-concurrency must be at least 1 and --validate-retries at most 10");
        }
        let overrides = EndpointOverrides::from_env().map_err(anyhow::Error::msg)?;
        if !overrides.is_empty() {
            eprintln!(
                "leakhound: warning: {TEST_ENDPOINTS_VAR} is set: validation requests go to local \
                 test servers, not to the providers"
            );
        }
        Ok(ValidateConfig {
            timeout: Duration::from_secs_f64(self.validate_timeout),
            retries: self.validate_retries,
            rps: self.validate_rps,
            concurrency: self.validate_concurrency,
            allow_rule_validators: self.allow_rule_validators,
            overrides,
            ..ValidateConfig::default()
        })
    }

    /// Validates the findings of `output` in place, then applies `--only-live`.
    pub fn apply(
        &self,
        config: &ValidateConfig,
        output: &mut ScanOutput,
        rules: &RuleSet,
    ) -> Result<()> {
        let mut run = validate::validate_findings(&mut output.findings, rules, config)
            .map_err(anyhow::Error::msg)?;
        output.notes.append(&mut run.notes);
        if self.only_live {
            let kept = validate::retain_live(&mut output.findings, self.strict);
            if kept > 0 {
                output.notes.push(format!(
                    "--only-live kept {kept} unverifiable high-confidence finding(s) that no \
                     validator can check (--strict drops them)"
                ));
            }
        }
        output.validation = Some(run);
        Ok(())
    }
}

#[derive(Args)]
pub struct ValidateCmdArgs {
    /// A JSON or JSONL report written with --show-secrets, or raw tokens one per line; `-` or
    /// nothing reads standard input.
    #[arg(value_name = "FILE")]
    input: Option<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
    #[command(flatten)]
    validation: ValidationOptions,
    #[command(flatten)]
    output: OutputArgs,
}

pub const VALIDATE_HELP: &str = "\
Input: a JSON (schema_version 1) or JSONL report written with --show-secrets, or raw tokens one
per line (each token's rule is recognised by the scanner). Each unique (rule, secret) is checked
once.

Exit codes:
  0  no findings in the input (or none left after --only-live)
  1  findings reported (set another code with --exit-code)
  2  error: unreadable input, a masked report, bad arguments";

/// Reads FILE or stdin into text.
pub fn read_input(input: &Option<PathBuf>) -> Result<(String, String)> {
    match input {
        Some(path) if path.as_os_str() != "-" => {
            let text = fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok((text, path.display().to_string()))
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            Ok((text, "<stdin>".to_string()))
        }
    }
}

pub fn run(args: ValidateCmdArgs) -> Result<u8> {
    let rules = args.rules.load()?;
    let config = args.validation.config()?;
    let (text, name) = read_input(&args.input)?;
    let started = std::time::Instant::now();
    let scanner = Scanner::new(&rules);
    let findings = read_findings(&text, &name, &scanner, &rules)?;
    let mut output = ScanOutput {
        findings,
        ..ScanOutput::default()
    };
    output.stats.blobs_scanned = 1;
    output.stats.bytes_scanned = text.len() as u64;
    args.validation.apply(&config, &mut output, &rules)?;
    output.elapsed = started.elapsed();
    args.output.finish(&output, &rules)
}
