//! `leakhound install-hook`: a plain `.git/hooks/pre-commit` for repositories that do not use
//! the pre-commit framework (which uses `.pre-commit-hooks.yaml` instead).

use std::{fs, path::PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::EXIT_CLEAN;

#[derive(Args)]
pub struct InstallHookArgs {
    /// A directory inside the repository (default: the current one).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Replace an existing pre-commit hook.
    #[arg(long)]
    force: bool,
}

pub fn run(args: InstallHookArgs) -> Result<u8> {
    let repo = git2::Repository::discover(&args.path)
        .with_context(|| format!("{} is not inside a git repository", args.path.display()))?;
    // `hooks` sits in the common git directory, also for linked worktrees.
    let hooks = repo.commondir().join("hooks");
    let hook = hooks.join("pre-commit");
    if hook.exists() && !args.force {
        bail!(
            "{} already exists; rerun with --force to replace it, or call `leakhound scan --staged` from it",
            hook.display()
        );
    }
    fs::create_dir_all(&hooks).with_context(|| format!("cannot create {}", hooks.display()))?;
    fs::write(&hook, hook_script()).with_context(|| format!("cannot write {}", hook.display()))?;
    make_executable(&hook)?;
    eprintln!("leakhound: installed {}", hook.display());
    Ok(EXIT_CLEAN)
}

/// The hook prefers the binary that installed it and falls back to `leakhound` on PATH, so it
/// keeps working when the binary is reinstalled elsewhere.
fn hook_script() -> String {
    let installed = std::env::current_exe()
        .ok()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!(
        r#"#!/bin/sh
# Installed by `leakhound install-hook`: blocks commits that add secrets.
LEAKHOUND='{installed}'
[ -x "$LEAKHOUND" ] || LEAKHOUND=leakhound
exec "$LEAKHOUND" scan --staged --quiet
"#
    )
}

#[cfg(unix)]
fn make_executable(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = fs::metadata(path)?.permissions();
    permissions.set_mode(0o755);
    fs::set_permissions(path, permissions)?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_: &std::path::Path) -> Result<()> {
    Ok(())
}
