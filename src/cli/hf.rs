//! `leakhound hf`: scan Hugging Face Hub repos and accounts. Arguments, their validation into
//! a [`HubConfig`] (token, endpoint, targets) and the run.

use std::{fs, path::PathBuf, time::Duration};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use leakhound::{
    engine::Scanner,
    pipeline::scan_pushed,
    source::hub::{self, parse_target, ClientConfig, HubConfig, RepoType, RetryPolicy, Token},
};
use reqwest::Url;

use leakhound::config::parse_size;

use super::{output::OutputArgs, project::ProjectArgs, scan::ConfidenceArg, RuleArgs};

/// The public Hub; `HF_ENDPOINT` or `--endpoint` points elsewhere (a mirror, a test server).
const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

pub const HF_HELP: &str = "\
Targets:
  owner/name                 a repo (type from --type, default model)
  datasets/owner/name        a dataset (also models/…, spaces/…)
  https://huggingface.co/…   a repo or account URL; /tree/REV names a revision
  owner                      every model, dataset and Space of a user or org (narrow with --type),
                             private ones included when the token can read them

Authentication: HF_TOKEN, or --token-file. The token is sent only to the endpoint's origin.
Endpoint: HF_ENDPOINT or --endpoint (default https://huggingface.co).

Exit codes:
  0  no findings
  1  findings reported (set another code with --exit-code)
  2  error: bad arguments, or a repo, file or discussion could not be scanned (findings take precedence)";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RepoTypeArg {
    Model,
    Dataset,
    Space,
}

impl From<RepoTypeArg> for RepoType {
    fn from(arg: RepoTypeArg) -> Self {
        match arg {
            RepoTypeArg::Model => RepoType::Model,
            RepoTypeArg::Dataset => RepoType::Dataset,
            RepoTypeArg::Space => RepoType::Space,
        }
    }
}

#[derive(Args)]
pub struct HfArgs {
    /// Repos, repo URLs and accounts to scan.
    #[arg(value_name = "TARGET", required = true)]
    targets: Vec<String>,

    /// Repo type of bare owner/name targets; for accounts, the types to sweep (repeatable).
    #[arg(long = "type", value_enum, value_name = "TYPE", help_heading = "Hub")]
    types: Vec<RepoTypeArg>,
    /// Branch, tag, commit or refs/pr/N to scan (default: main).
    #[arg(long, value_name = "REV", help_heading = "Hub")]
    revision: Option<String>,
    /// Do not scan discussions and pull requests.
    #[arg(long, help_heading = "Hub")]
    no_discussions: bool,
    /// Also clone each repo over git (no LFS content) and scan its whole history, so secrets
    /// deleted from the Hub are found too.
    #[arg(long, help_heading = "Hub")]
    history: bool,
    /// Read the token from FILE instead of HF_TOKEN.
    #[arg(long, value_name = "FILE", help_heading = "Hub")]
    token_file: Option<PathBuf>,
    /// The Hub to talk to.
    #[arg(long, env = "HF_ENDPOINT", value_name = "URL", default_value = DEFAULT_ENDPOINT, help_heading = "Hub")]
    endpoint: String,
    /// Limit on each HTTP request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60, help_heading = "Hub")]
    timeout: u64,
    /// Skip files larger than SIZE (weight files are read in part whatever their size).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "25M", help_heading = "Hub")]
    max_file_size: u64,
    /// Concurrent workers, each with at most one request in flight.
    #[arg(
        short = 'j',
        long,
        value_name = "N",
        default_value_t = hub::DEFAULT_THREADS,
        help_heading = "Hub"
    )]
    threads: usize,

    #[command(flatten)]
    rules: RuleArgs,
    /// Report only findings of rules at or above this confidence [default: the config's
    /// `min_confidence`, else low].
    #[arg(long, value_enum, help_heading = "Rules")]
    min_confidence: Option<ConfidenceArg>,

    #[command(flatten)]
    project: ProjectArgs,

    #[command(flatten)]
    validate: super::validate::ValidateArgs,

    #[command(flatten)]
    output: OutputArgs,
}

impl HfArgs {
    /// Turns arguments into a validated config before any request.
    fn config(&self) -> Result<HubConfig> {
        let types: Vec<RepoType> = self.types.iter().map(|&t| t.into()).collect();
        let mut targets = Vec::new();
        for text in &self.targets {
            targets.extend(parse_target(text, &types)?);
        }
        Ok(HubConfig {
            client: ClientConfig {
                endpoint: parse_endpoint(&self.endpoint)?,
                token: self.token()?,
                timeout: Duration::from_secs(self.timeout.max(1)),
                retry: RetryPolicy::default(),
                announce_waits: !self.output.quiet,
            },
            targets,
            revision: self.revision.clone(),
            discussions: !self.no_discussions,
            max_file_size: self.max_file_size,
            threads: self.threads,
            progress_lines: !self.output.quiet,
            history: self
                .history
                .then_some(leakhound::source::hub::history::scan_with_git as _),
        })
    }

    /// `--token-file`, else `HF_TOKEN`, else none (public repos only). Read by hand, not
    /// through clap's `env`, so `--help` can never show it.
    fn token(&self) -> Result<Option<Token>> {
        if let Some(path) = &self.token_file {
            let text = fs::read_to_string(path)
                .with_context(|| format!("cannot read token file {}", path.display()))?;
            return match Token::new(&text) {
                Some(token) => Ok(Some(token)),
                None => bail!("token file {} holds no token", path.display()),
            };
        }
        match std::env::var("HF_TOKEN") {
            Ok(text) if !text.trim().is_empty() => match Token::new(&text) {
                Some(token) => Ok(Some(token)),
                None => bail!("HF_TOKEN is not a token (it contains spaces or control characters)"),
            },
            _ => Ok(None),
        }
    }
}

/// An http(s) URL without query or fragment; a trailing slash is dropped.
fn parse_endpoint(text: &str) -> Result<Url> {
    let trimmed = text.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).with_context(|| format!("invalid Hub endpoint `{text}`"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("invalid Hub endpoint `{text}`: expected an http(s) URL");
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        bail!("invalid Hub endpoint `{text}`: no query, fragment or credentials allowed");
    }
    Ok(url)
}

pub fn run(args: HfArgs) -> Result<u8> {
    // A Hub sweep has no local root: only `--config FILE` and `--baseline FILE` apply.
    let mut project = args.project.resolve(None, None)?;
    let mut rules = args.rules.load()?;
    project.select_rules(&mut rules, args.min_confidence.map(Into::into))?;
    let config = args.config()?;
    let validation = args.validate.config()?;
    if !args.output.quiet {
        for note in &project.notes {
            eprintln!("leakhound: note: {note}");
        }
    }
    let scanner = Scanner::new(&rules);
    let (mut output, summary) = scan_pushed(
        &scanner,
        &project.suppressor,
        args.output.show_progress(),
        |sink| hub::sweep(&config, sink),
    );
    let summary = summary.context("cannot start the Hub client")?;
    let baseline_code = match &args.project.write_baseline {
        Some(path) => Some(project.write_baseline(path, &output)?),
        None => None,
    };
    if let Some(validation) = &validation {
        args.validate
            .options
            .apply(validation, &mut output, &rules)?;
    }
    let mut code = args.output.finish(&output, &rules)?;
    if let Some(baseline_code) = baseline_code {
        code = baseline_code;
    }
    if !args.output.quiet {
        eprintln!("leakhound: {}", summary.line());
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            parse_endpoint("http://127.0.0.1:8080/").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            parse_endpoint("https://hub.example/mirror/")
                .unwrap()
                .as_str(),
            "https://hub.example/mirror"
        );
        assert!(parse_endpoint("ftp://x").is_err());
        assert!(parse_endpoint("https://u:p@x").is_err());
        assert!(parse_endpoint("huggingface.co").is_err());
    }
}
