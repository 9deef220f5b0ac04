//! The project's standing instructions, shared by `scan` and `hf`: `.leakhound.yaml`,
//! ignore files, baseline and pragma switches, merged with the command line (which wins).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, Result};
use clap::Args;
use leakhound::{
    config::{Config, CONFIG_FILE},
    gitleaks::{GitleaksConfig, CONFIG_FILES as GITLEAKS_CONFIG_FILES},
    pipeline::ScanOutput,
    rules::{Confidence, RuleSet},
    suppress::{Allowlist, Baseline, IgnoreList, Pragmas, Suppressor},
};

/// Where the project's files are looked for.
const LEAKHOUND_IGNORE: &str = ".leakhoundignore";
const GITLEAKS_IGNORE: &str = ".gitleaksignore";

#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Config and suppression")]
pub struct ProjectArgs {
    /// Read this config file instead of the `.leakhound.yaml` at the scanned root.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore `.leakhound.yaml`, `.gitleaks.toml`, `.betterleaks.toml`, `.leakhoundignore` and
    /// `.gitleaksignore` at the scanned root.
    #[arg(long)]
    pub no_config: bool,
    /// Load the rules and allowlists of a gitleaks / Betterleaks TOML config [default:
    /// `.gitleaks.toml` or `.betterleaks.toml` at the scanned root].
    #[arg(long, value_name = "FILE")]
    pub gitleaks_config: Option<PathBuf>,
    /// Report only findings that are not in this baseline (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record every current finding in FILE (secrets only as keyed hashes) and exit 0.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,
    /// Report findings even on lines marked `leakhound:allow` (or another tool's pragma).
    #[arg(long)]
    pub no_inline_ignores: bool,
    /// Honour only leakhound's own pragmas, not `gitleaks:allow`, `betterleaks:allow` or
    /// `pragma: allowlist secret`.
    #[arg(long)]
    pub no_other_tool_pragmas: bool,
}

/// What the project settings resolve to for one run.
pub struct Project {
    pub config: Option<Config>,
    pub gitleaks: Option<GitleaksConfig>,
    pub suppressor: Arc<Suppressor>,
    /// Things to tell the user on stderr (which config was read, what it changes).
    pub notes: Vec<String>,
}

impl ProjectArgs {
    /// Reads the config, ignore files and baseline that apply to a scan rooted at `root`
    /// (`None`: no scanned root, such as a remote URL; only `--config` then applies).
    /// `relative_root` is the directory reported paths are made relative to.
    pub fn resolve(&self, root: Option<&Path>, relative_root: Option<&Path>) -> Result<Project> {
        let mut notes = Vec::new();
        let config_path = match (&self.config, root) {
            (Some(path), _) => Some(path.clone()),
            (None, Some(root)) if !self.no_config => {
                Some(root.join(CONFIG_FILE)).filter(|p| p.is_file())
            }
            _ => None,
        };
        let config = match config_path {
            Some(path) => {
                let config = Config::load(&path)?;
                notes.push(format!("config {}: {}", path.display(), config.describe()));
                Some(config)
            }
            None => None,
        };

        let gitleaks = self.gitleaks_config(root, &mut notes)?;

        let mut suppressor = Suppressor::default();
        if let Some(root) = relative_root {
            suppressor.set_root(root);
        }
        let setting = |flag: bool, key: Option<bool>| !flag && key.unwrap_or(true);
        suppressor.pragmas = Pragmas {
            enabled: setting(
                self.no_inline_ignores,
                config.as_ref().and_then(|c| c.inline_ignores),
            ),
            other_tools: setting(
                self.no_other_tool_pragmas,
                config.as_ref().and_then(|c| c.other_tool_pragmas),
            ),
        };
        if let Some(config) = &config {
            suppressor
                .allowlists
                .extend(config.allowlists.iter().cloned());
            if !config.stopwords.is_empty() {
                suppressor.allowlists.push(Allowlist {
                    origin: format!("{} stopwords", config.file),
                    stopwords: config.stopwords.iter().map(|w| w.to_lowercase()).collect(),
                    ..Allowlist::default()
                });
            }
        }
        if let Some(gitleaks) = &gitleaks {
            suppressor
                .allowlists
                .extend(gitleaks.allowlists.iter().cloned());
            // gitleaks does not scan its own config file; its rules would match their own
            // examples there. Built-in rules still look at it.
            let name = Path::new(&gitleaks.file).file_name().unwrap_or_default();
            if let Ok(own) =
                regex::bytes::Regex::new(&format!("^{}$", regex::escape(&name.to_string_lossy())))
            {
                suppressor.allowlists.push(Allowlist {
                    origin: format!("{} (the config file itself)", gitleaks.file),
                    rule_ids: gitleaks.rules.iter().map(|r| r.id.clone()).collect(),
                    paths: leakhound::suppress::PathMatcher {
                        globs: None,
                        regexes: vec![own],
                    },
                    ..Allowlist::default()
                });
            }
        }
        if let (Some(root), false) = (root, self.no_config) {
            suppressor.ignores = read_ignore_files(root, &mut notes)?;
        }
        if self.write_baseline.is_none() {
            let baseline = self
                .baseline
                .clone()
                .or_else(|| config.as_ref().and_then(|c| c.baseline.clone()));
            if let Some(path) = baseline {
                let loaded = Baseline::load(&path).map_err(anyhow::Error::msg)?;
                notes.push(format!(
                    "baseline {}: {} known findings",
                    path.display(),
                    loaded.len()
                ));
                suppressor.baseline = Some(loaded);
            }
        }
        Ok(Project {
            config,
            gitleaks,
            suppressor: Arc::new(suppressor),
            notes,
        })
    }
}

impl ProjectArgs {
    /// `--gitleaks-config`, else `.gitleaks.toml` / `.betterleaks.toml` at the root.
    fn gitleaks_config(
        &self,
        root: Option<&Path>,
        notes: &mut Vec<String>,
    ) -> Result<Option<GitleaksConfig>> {
        let path = match (&self.gitleaks_config, root) {
            (Some(path), _) => Some(path.clone()),
            (None, Some(root)) if !self.no_config => GITLEAKS_CONFIG_FILES
                .iter()
                .map(|name| root.join(name))
                .find(|path| path.is_file()),
            _ => None,
        };
        let Some(path) = path else {
            return Ok(None);
        };
        let gitleaks = GitleaksConfig::load(&path)?;
        notes.push(format!(
            "gitleaks config {}: {}",
            path.display(),
            gitleaks.describe()
        ));
        notes.extend(gitleaks.notes.iter().map(|n| format!("not honoured: {n}")));
        Ok(Some(gitleaks))
    }
}

impl Project {
    /// Applies the config's rule selection, then the gitleaks config's rules, then the
    /// confidence floor (`--min-confidence` wins).
    pub fn select_rules(&mut self, rules: &mut RuleSet, cli_min: Option<Confidence>) -> Result<()> {
        if let Some(config) = &self.config {
            config.apply_to_rules(rules)?;
        }
        if let Some(gitleaks) = &self.gitleaks {
            let notes = gitleaks.apply(rules)?;
            self.notes.extend(notes);
        }
        let min = cli_min
            .or(self.config.as_ref().and_then(|c| c.min_confidence))
            .unwrap_or(Confidence::Low);
        rules.retain_confidence(min);
        if rules.is_empty() {
            anyhow::bail!("no rules left to run after the config's rule selection");
        }
        Ok(())
    }

    /// Path excludes from the config, to add to `--exclude`.
    pub fn excludes(&self) -> &[String] {
        self.config.as_ref().map_or(&[], |c| c.exclude.as_slice())
    }

    pub fn max_file_size(&self) -> Option<u64> {
        self.config.as_ref().and_then(|c| c.max_file_size)
    }

    /// `--write-baseline`: records every reported location, says so, and returns the exit
    /// code (0: the findings are now known; 2 if some input could not be scanned, since its
    /// secrets are missing from the baseline).
    pub fn write_baseline(&self, path: &Path, output: &ScanOutput) -> Result<u8> {
        let baseline = self
            .suppressor
            .baseline_of(&output.findings)
            .map_err(anyhow::Error::msg)?;
        baseline.write(path).map_err(anyhow::Error::msg)?;
        eprintln!(
            "leakhound: baseline written to {}: {} finding locations (secrets stored as keyed \
             hashes only); scans with --baseline {} (or `baseline:` in .leakhound.yaml) report \
             only new ones",
            path.display(),
            baseline.len(),
            path.display()
        );
        Ok(if output.errors.is_empty() {
            super::EXIT_CLEAN
        } else {
            super::EXIT_ERROR
        })
    }
}

fn read_ignore_files(root: &Path, notes: &mut Vec<String>) -> Result<IgnoreList> {
    let mut ignores = IgnoreList::default();
    let own = root.join(LEAKHOUND_IGNORE);
    if own.is_file() {
        ignores
            .add_leakhound_file(&own)
            .map_err(anyhow::Error::msg)?;
        notes.push(format!(
            "{}: {} fingerprints ignored",
            own.display(),
            ignores.ids.len()
        ));
    }
    let gitleaks = root.join(GITLEAKS_IGNORE);
    if gitleaks.is_file() {
        let warnings = ignores
            .add_gitleaks_file(&gitleaks)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("reading {}", gitleaks.display()))?;
        notes.extend(warnings);
        notes.push(format!(
            "{}: {} gitleaks fingerprints read",
            gitleaks.display(),
            ignores.gitleaks.len()
        ));
    }
    Ok(ignores)
}

/// The directory whose config applies to `path`: the top of the git working tree that holds
/// it, else the directory itself (or a file's directory).
pub fn project_root(path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    match git2::Repository::discover(&dir) {
        Ok(repo) => match repo.workdir() {
            Some(top) => relative_to_cwd(top).unwrap_or_else(|| top.to_path_buf()),
            None => dir,
        },
        Err(_) => dir,
    }
}

/// `top` written relative to the current directory when it contains it (`.` for the cwd), so
/// notes print short paths.
fn relative_to_cwd(top: &Path) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?.canonicalize().ok()?;
    let top = top.canonicalize().ok()?;
    let rest = top.strip_prefix(&cwd).ok()?;
    Some(if rest.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        rest.to_path_buf()
    })
}
