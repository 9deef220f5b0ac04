//! Report and output flags as one flattened group, and writing the report with them: the
//! same behaviour as `scan` (stdout holds the report; errors and the summary go to stderr;
//! exit 0/1/2). `hf` uses it; `scan` can move to it.

use std::{
    fs::File,
    io::{self, BufWriter, IsTerminal, Write},
    path::PathBuf,
};

use anyhow::{Context, Result};
use clap::Args;
use leakhound::{
    pipeline::ScanOutput,
    report::{self, Format, ReportOptions},
    rules::RuleSet,
};

use super::{stderr_is_terminal, When, EXIT_CLEAN, EXIT_ERROR};

#[derive(Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Report format.
    #[arg(short, long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in full. Without it every format masks them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Colour in the human report.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: When,
    /// Progress on stderr (a bar on a terminal).
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub progress: When,
    /// No progress and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Exit code when findings are reported.
    #[arg(long, value_name = "N", default_value_t = super::EXIT_FINDINGS)]
    pub exit_code: u8,
}

impl OutputArgs {
    /// Whether to draw the progress bar.
    pub fn show_progress(&self) -> bool {
        !self.quiet && self.progress.resolve(stderr_is_terminal())
    }

    /// Writes the report, then errors and the summary to stderr; returns the exit code.
    pub fn finish(&self, output: &ScanOutput, rules: &RuleSet) -> Result<u8> {
        let to_terminal = self.output.is_none() && io::stdout().is_terminal();
        let options = ReportOptions {
            show_secrets: self.show_secrets,
            color: self.format == Format::Human
                && self.output.is_none()
                && self.color.resolve(to_terminal),
        };
        let mut writer: Box<dyn Write> = match &self.output {
            Some(path) => Box::new(BufWriter::new(
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            )),
            None => Box::new(BufWriter::new(io::stdout().lock())),
        };
        report::write_report(&mut writer, self.format, output, rules, options)?;
        writer.flush()?;
        // Errors always reach stderr, even with --quiet.
        for error in &output.errors {
            eprintln!("leakhound: {}: {}", error.path, error.message);
        }
        for note in &output.notes {
            eprintln!("leakhound: note: {note}");
        }
        if !self.quiet {
            eprintln!("leakhound: {}", report::summary_line(output));
        }
        Ok(if !output.findings.is_empty() {
            self.exit_code
        } else if !output.errors.is_empty() {
            EXIT_ERROR
        } else {
            EXIT_CLEAN
        })
    }
}
