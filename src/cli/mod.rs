//! Command-line parsing and dispatch: one module per subcommand.

mod hf;
mod hook;
mod output;
mod project;
mod revoke;
mod rules_cmd;
mod scan;
mod validate;

use std::io::IsTerminal;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use leakhound::rules::{load_rule_path, RuleSet};

/// No findings (and no input that could not be scanned).
pub const EXIT_CLEAN: u8 = 0;
/// Findings were reported (change with `--exit-code`).
pub const EXIT_FINDINGS: u8 = 1;
/// An error: bad arguments, a broken rule file, or an input that could not be scanned.
pub const EXIT_ERROR: u8 = 2;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  no findings
  1  findings reported (set another code with --exit-code)
  2  error: bad arguments or rule file, or an input could not be read (findings take precedence)";

/// Find leaked secrets and API tokens in files, directories and standard input.
#[derive(Parser)]
#[command(name = "leakhound", version, about, after_help = EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files, directories or standard input (`-`) for secrets.
    #[command(after_help = EXIT_CODES_HELP)]
    Scan(scan::ScanArgs),
    /// Scan Hugging Face Hub repos, accounts and their discussions for secrets.
    #[command(after_help = hf::HF_HELP)]
    Hf(hf::HfArgs),
    /// List or check detection rules.
    Rules(rules_cmd::RulesArgs),
    /// Write a git pre-commit hook that runs `leakhound scan --staged`.
    InstallHook(hook::InstallHookArgs),
    /// Check whether the secrets of a previous report (or raw tokens) are live.
    #[command(after_help = validate::VALIDATE_HELP)]
    Validate(validate::ValidateCmdArgs),
    /// Submit leaked Hugging Face tokens to the Hub's revocation endpoint (irreversible).
    #[command(after_help = revoke::REVOKE_HELP)]
    Revoke(revoke::RevokeArgs),
}

/// When to use colour and progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum When {
    Auto,
    Always,
    Never,
}

impl When {
    /// Resolves `auto` against whether the stream is a terminal and `NO_COLOR`.
    pub fn resolve(self, is_terminal: bool) -> bool {
        match self {
            When::Always => true,
            When::Never => false,
            When::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// Rule selection shared by every subcommand that loads rules.
#[derive(clap::Args, Clone)]
#[command(next_help_heading = "Rules")]
pub struct RuleArgs {
    /// Load more rules from a YAML file or a directory of them (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<std::path::PathBuf>,
    /// Do not load the built-in rules (use only --rules).
    #[arg(long)]
    pub no_builtin_rules: bool,
}

impl RuleArgs {
    pub fn load(&self) -> Result<RuleSet> {
        let mut set = if self.no_builtin_rules {
            RuleSet::default()
        } else {
            RuleSet::builtin().context("built-in rules are broken")?
        };
        for path in &self.rules {
            set.extend(load_rule_path(path)?)?;
        }
        if set.is_empty() {
            anyhow::bail!("no rules loaded: drop --no-builtin-rules or add --rules PATH");
        }
        Ok(set)
    }
}

pub fn run() -> Result<u8> {
    let cli = Cli::parse();
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Hf(args) => hf::run(args),
        Command::Rules(args) => rules_cmd::run(args),
        Command::InstallHook(args) => hook::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Revoke(args) => revoke::run(args),
    }
}

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
