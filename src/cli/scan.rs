//! `leakhound scan`: arguments, their validation into a [`ScanConfig`], and the run.

use std::{
    fs::File,
    io::{self, BufWriter, IsTerminal, Write},
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use clap::Args;
use leakhound::{
    config::parse_size,
    engine::ScannerBuilder,
    extract::{ExtractConfig, Limits},
    finding::Finding,
    pipeline::{scan_inputs, scan_staged, GitOptions, Input, ScanConfig},
    report::mask::mask_secret,
    report::{self, Format, ReportOptions},
    rules::Confidence,
    source::{
        fs::{build_excludes, BinaryPolicy, WalkOptions},
        git::{self, remote::is_remote_url, HistorySelection, Since},
    },
    DEFAULT_MAX_FILE_SIZE,
};

use super::{
    project::{project_root, Project, ProjectArgs},
    stderr_is_terminal, RuleArgs, When, EXIT_CLEAN, EXIT_ERROR,
};

#[derive(Args)]
pub struct ScanArgs {
    /// Files, directories, git repositories or repository URLs to scan; `-` reads stdin.
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<String>,

    /// Scan what `git commit` would record, reporting only secrets on added or changed lines
    /// (the pre-commit path). PATH, if given, is a directory inside the repository.
    #[arg(long, help_heading = "Git")]
    staged: bool,
    /// In a git repository, scan only the working tree, not the history.
    #[arg(long, help_heading = "Git")]
    no_history: bool,
    /// Scan only the history of REF (branch, tag or commit; repeatable). Default: every ref.
    #[arg(long = "branch", value_name = "REF", help_heading = "Git")]
    branches: Vec<String>,
    /// Scan only commits after DATE (YYYY-MM-DD, committer date) or not reachable from COMMIT.
    #[arg(long, value_name = "DATE|COMMIT", help_heading = "Git")]
    since: Option<String>,

    #[command(flatten)]
    rules: RuleArgs,

    #[command(flatten)]
    validate: super::validate::ValidateArgs,

    /// Report only findings of rules at or above this confidence [default: the config's
    /// `min_confidence`, else low].
    #[arg(long, value_enum, help_heading = "Rules")]
    min_confidence: Option<ConfidenceArg>,

    #[command(flatten)]
    project: ProjectArgs,

    /// Report format.
    #[arg(
        short,
        long,
        value_enum,
        default_value = "human",
        help_heading = "Output"
    )]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    output: Option<PathBuf>,
    /// Print secrets in full. Without it every format masks them.
    #[arg(long, help_heading = "Output")]
    show_secrets: bool,
    /// Colour in the human report.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        value_name = "WHEN",
        help_heading = "Output"
    )]
    color: When,
    /// Progress bar on stderr.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        value_name = "WHEN",
        help_heading = "Output"
    )]
    progress: When,
    /// No progress bar and no summary on stderr.
    #[arg(short, long, help_heading = "Output")]
    quiet: bool,
    /// Exit code when findings are reported.
    #[arg(long, value_name = "N", default_value_t = super::EXIT_FINDINGS, help_heading = "Output")]
    exit_code: u8,

    /// Honour .gitignore, .ignore and git exclude files (by default every file is scanned).
    #[arg(long, help_heading = "Inputs")]
    respect_gitignore: bool,
    /// Skip paths matching GLOB, relative to the scanned root or by file name (repeatable).
    #[arg(long, value_name = "GLOB", help_heading = "Inputs")]
    exclude: Vec<String>,
    /// Skip files larger than SIZE (bytes, or with K, M, G suffix) [default: the config's
    /// `max_file_size`, else 25M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Inputs")]
    max_file_size: Option<u64>,
    /// Follow symbolic links (by default they are skipped and counted).
    #[arg(long, help_heading = "Inputs")]
    follow_symlinks: bool,
    /// Do not look inside archives, notebooks, model files or encoded runs; skip binary files.
    #[arg(long, conflicts_with = "scan_binaries", help_heading = "Extraction")]
    no_extract: bool,
    /// Scan the printable strings of binary files no extractor understands (default: skip them).
    #[arg(long, help_heading = "Extraction")]
    scan_binaries: bool,
    /// Follow base64, hex and percent-encoded runs this many decodings deep (0: do not decode).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_decode_depth, help_heading = "Extraction")]
    max_decode_depth: usize,

    /// Worker threads (default: one per core).
    #[arg(
        short = 'j',
        long,
        value_name = "N",
        default_value_t = 0,
        help_heading = "Inputs"
    )]
    threads: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum ConfidenceArg {
    Low,
    Medium,
    High,
}

impl From<ConfidenceArg> for Confidence {
    fn from(arg: ConfidenceArg) -> Self {
        match arg {
            ConfidenceArg::Low => Confidence::Low,
            ConfidenceArg::Medium => Confidence::Medium,
            ConfidenceArg::High => Confidence::High,
        }
    }
}

impl ScanArgs {
    /// Turns arguments and the project's config into a validated scan config before any work
    /// starts.
    fn config(&self, project: &Project) -> Result<ScanConfig> {
        let mut globs = self.exclude.clone();
        globs.extend(project.excludes().iter().cloned());
        let excludes = build_excludes(&globs).context("invalid --exclude glob")?;
        Ok(ScanConfig {
            walk: WalkOptions {
                respect_gitignore: self.respect_gitignore,
                follow_symlinks: self.follow_symlinks,
                excludes,
                max_file_size: self
                    .max_file_size
                    .or(project.max_file_size())
                    .unwrap_or(DEFAULT_MAX_FILE_SIZE),
                binary: self.binary_policy(),
            },
            extract: ExtractConfig {
                enabled: !self.no_extract,
                scan_binaries: self.scan_binaries,
                limits: Limits {
                    max_decode_depth: self.max_decode_depth,
                    ..Limits::default()
                },
            },
            threads: self.threads,
            show_progress: !self.quiet && self.progress.resolve(stderr_is_terminal()),
            git: GitOptions {
                skip_history: self.no_history,
                selection: HistorySelection {
                    refs: self.branches.clone(),
                    since: self
                        .since
                        .as_deref()
                        .map(|since| match git::parse_date(since) {
                            Some(seconds) => Since::Date(seconds),
                            None => Since::Commit(since.to_string()),
                        }),
                },
            },
            suppress: project.suppressor.clone(),
        })
    }

    fn binary_policy(&self) -> BinaryPolicy {
        if self.no_extract {
            BinaryPolicy::Skip
        } else if self.scan_binaries {
            BinaryPolicy::All
        } else {
            BinaryPolicy::Extractable
        }
    }

    fn inputs(&self) -> Vec<Input> {
        self.paths
            .iter()
            .map(|p| match p.as_str() {
                "-" => Input::Stdin,
                url if is_remote_url(url) && !git::remote::exists_locally(url) => {
                    Input::Remote(url.to_string())
                }
                path => Input::Path(PathBuf::from(path)),
            })
            .collect()
    }
}

impl ScanArgs {
    /// The directory whose `.leakhound.yaml` applies, and the one reported paths are made
    /// relative to (none for staged changes, whose paths are already relative to the
    /// repository's top).
    fn roots(&self, inputs: &[Input]) -> (Option<PathBuf>, Option<PathBuf>) {
        if self.staged {
            let start = self.paths.first().map_or(".", String::as_str);
            return (Some(project_root(Path::new(start))), None);
        }
        let root = match inputs.first() {
            Some(Input::Path(path)) => Some(project_root(path)),
            Some(Input::Stdin) => Some(PathBuf::from(".")),
            Some(Input::Remote(_)) | None => None,
        };
        (root.clone(), root)
    }
}

pub fn run(args: ScanArgs) -> Result<u8> {
    let inputs = args.inputs();
    let (root, relative_root) = args.roots(&inputs);
    let mut project = args
        .project
        .resolve(root.as_deref(), relative_root.as_deref())?;
    let mut rules = args.rules.load()?;
    project.select_rules(&mut rules, args.min_confidence.map(Into::into))?;
    let config = args.config(&project)?;
    let validation = args.validate.config()?;
    if !args.quiet {
        for note in &project.notes {
            eprintln!("leakhound: note: {note}");
        }
    }
    let scanner = ScannerBuilder::new().small_input(args.staged).build(&rules);
    let mut output = if args.staged {
        let start = args.paths.first().map_or(".", String::as_str);
        scan_staged(&scanner, &config, Path::new(start))
            .map_err(|e| anyhow::anyhow!("cannot read staged changes: {}", e.message()))?
    } else {
        scan_inputs(&scanner, &config, &inputs)
    };
    let baseline_code = match &args.project.write_baseline {
        Some(path) => Some(project.write_baseline(path, &output)?),
        None => None,
    };
    if let Some(validation) = &validation {
        args.validate
            .options
            .apply(validation, &mut output, &rules)?;
    }

    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let options = ReportOptions {
        show_secrets: args.show_secrets,
        color: args.format == Format::Human
            && args.output.is_none()
            && args.color.resolve(to_terminal),
    };
    let mut writer: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };
    report::write_report(&mut writer, args.format, &output, &rules, options)?;
    writer.flush()?;

    // Errors always reach stderr, even with --quiet: an input that was not scanned must
    // never pass unnoticed.
    for error in &output.errors {
        eprintln!("leakhound: {}: {}", error.path, error.message);
    }
    for note in &output.notes {
        eprintln!("leakhound: note: {note}");
    }
    if !args.quiet {
        eprintln!("leakhound: {}", report::summary_line(&output));
    }
    if args.staged && !output.findings.is_empty() {
        eprint!(
            "{}",
            commit_blocked_message(&output.findings, args.show_secrets)
        );
    }
    Ok(if let Some(code) = baseline_code {
        code
    } else if !output.findings.is_empty() {
        args.exit_code
    } else if !output.errors.is_empty() {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    })
}

/// What a blocked commit tells its author: each secret (file, line, rule, masked), then the
/// three ways out.
fn commit_blocked_message(findings: &[Finding], show_secrets: bool) -> String {
    let count: usize = findings.iter().map(|f| f.locations.len()).sum();
    let mut message = format!(
        "leakhound: commit blocked: {count} secret{} in staged changes:\n",
        if count == 1 { "" } else { "s" }
    );
    for finding in findings {
        let secret = if show_secrets {
            finding.secret.clone()
        } else {
            mask_secret(&finding.secret)
        };
        for location in &finding.locations {
            message.push_str(&format!(
                "  {}:{}  {}  {secret}\n",
                location.provenance.path(),
                location.line,
                finding.rule_id
            ));
        }
    }
    message.push_str(
        "Three ways out:\n  \
         1. Remove the secret from the file, `git add` it again, and rotate the secret if it \
         was ever real.\n  \
         2. Not a secret (a test value, a documented example)? Mark the line: add a comment \
         containing `leakhound:allow` on it, or `leakhound:allow-next-line` on the line above.\n  \
         3. Known and accepted? Record it in a baseline: `leakhound scan \
         --write-baseline .leakhound-baseline.json`, then add \
         `baseline: .leakhound-baseline.json` to .leakhound.yaml.\n\
         (`git commit --no-verify` skips the hook altogether; the secret would still be \
         committed.)\n",
    );
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound::DEFAULT_MAX_FILE_SIZE;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("25M"), Ok(DEFAULT_MAX_FILE_SIZE));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999999G").is_err());
    }
}
