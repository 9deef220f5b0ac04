//! `leakhound rules list|check|providers|import-gitleaks`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use leakhound::{
    gitleaks::{yaml, GitleaksConfig},
    rules::{check_rules, load_rule_path, RuleSet},
};
use serde_json::json;

use super::{RuleArgs, EXIT_CLEAN, EXIT_FINDINGS};

#[derive(Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Print every rule: id, provider, confidence, keywords.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the covered providers as a Markdown table (the README's table is this output).
    Providers,
    /// Print every host validation may contact, with the provider and rule ids (so egress can
    /// be opened from an isolated network), and the revocation endpoint.
    Endpoints {
        #[command(flatten)]
        rules: RuleArgs,
        /// Include validators of rules from --rules files (as --allow-rule-validators would).
        #[arg(long)]
        allow_rule_validators: bool,
    },
    /// Run every rule's examples and negative examples through the scanner. Exits 1 if any
    /// rule fails, naming it.
    Check {
        /// A rule file or directory to check (default: the built-in rules).
        path: Option<PathBuf>,
    },
    /// Convert a gitleaks / Betterleaks TOML config into a leakhound rule file. Fields that
    /// cannot be honoured are listed on stderr and as comments; allowlists are written as a
    /// commented `.leakhound.yaml` snippet.
    ImportGitleaks {
        /// The TOML config (`.gitleaks.toml`, `.betterleaks.toml`).
        file: PathBuf,
        /// Write the rule file here instead of standard output.
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
}

pub fn run(args: RulesArgs) -> Result<u8> {
    match args.command {
        RulesCommand::List { rules, json } => list(&rules.load()?, json),
        RulesCommand::Check { path } => check(path),
        RulesCommand::Endpoints {
            rules,
            allow_rule_validators,
        } => endpoints(&rules.load()?, allow_rule_validators),
        RulesCommand::ImportGitleaks { file, output } => import_gitleaks(&file, output.as_deref()),
        RulesCommand::Providers => {
            print!(
                "{}",
                leakhound::rules::providers_markdown(&RuleSet::builtin()?)
            );
            Ok(EXIT_CLEAN)
        }
    }
}

fn list(rules: &RuleSet, as_json: bool) -> Result<u8> {
    for rule in rules.rules() {
        if as_json {
            println!(
                "{}",
                json!({
                    "id": rule.id,
                    "name": rule.name,
                    "provider": rule.provider,
                    "confidence": rule.confidence.as_str(),
                    "keywords": rule.keywords,
                    "references": rule.references,
                    "validator": rule.validate.as_ref().map(|v| match &v.code {
                        Some(code) => format!("code:{code}"),
                        None => "http".to_string(),
                    }),
                })
            );
        } else {
            println!(
                "{:<44} {:<16} {:<6} {}",
                rule.id,
                rule.provider,
                rule.confidence.as_str(),
                rule.keywords.join(",")
            );
        }
    }
    Ok(EXIT_CLEAN)
}

fn endpoints(rules: &RuleSet, allow_rule_validators: bool) -> Result<u8> {
    let endpoints = leakhound::validate::endpoints(rules, allow_rule_validators);
    for (host, provider, ids) in &endpoints {
        println!("{host:<40} {provider:<16} {}", ids.join(","));
    }
    println!(
        "{:<40} {:<16} (leakhound revoke --provider huggingface only)",
        "huggingface.co", "huggingface"
    );
    Ok(EXIT_CLEAN)
}

fn import_gitleaks(file: &std::path::Path, output: Option<&std::path::Path>) -> Result<u8> {
    let config = GitleaksConfig::load(file)?;
    let text = yaml::rule_file(&config, &config.notes);
    for note in &config.notes {
        eprintln!("leakhound: note: not honoured: {note}");
    }
    match output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    eprintln!(
        "leakhound: {} rules and {} allowlists converted from {}{}",
        config.rules.len(),
        config.allowlists.len(),
        file.display(),
        output.map_or(String::new(), |p| format!(" into {}", p.display()))
    );
    Ok(EXIT_CLEAN)
}

fn check(path: Option<PathBuf>) -> Result<u8> {
    let rules = match &path {
        Some(path) => {
            let mut set = RuleSet::default();
            set.extend(load_rule_path(path)?)?;
            set
        }
        None => RuleSet::builtin()?,
    };
    let failures = check_rules(&rules);
    for failure in &failures {
        eprintln!("FAIL {failure}");
    }
    let failed_rules = {
        let mut ids: Vec<&str> = failures.iter().map(|f| f.rule_id.as_str()).collect();
        ids.dedup();
        ids.len()
    };
    eprintln!(
        "{} rules checked: {} passed, {} failed",
        rules.len(),
        rules.len() - failed_rules,
        failed_rules
    );
    Ok(if failures.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}
