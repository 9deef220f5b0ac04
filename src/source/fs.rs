//! Files and directories: a walk that streams file entries to the parallel scanners.
//!
//! By default every regular file is scanned, including hidden and gitignored ones, because
//! secrets live in exactly those (`.env`, `credentials.json`); only `.git/` internals are
//! skipped (the git source reads history properly). `--respect-gitignore` turns on ignore-file
//! handling via the `ignore` crate.

use std::{
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;

use super::{is_binary, Blob, Provenance, SkipReason};

/// What the walk and the reader need to know.
#[derive(Clone, Debug)]
pub struct WalkOptions {
    pub respect_gitignore: bool,
    pub follow_symlinks: bool,
    pub excludes: GlobSet,
    pub max_file_size: u64,
    pub binary: BinaryPolicy,
}

/// What [`read_file`] does with a binary file (a NUL byte in its first 8 KiB).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BinaryPolicy {
    /// Skip and count it (`--no-extract`).
    Skip,
    /// Read it if an extractor understands it (archive, model file), else skip and count it.
    #[default]
    Extractable,
    /// Read it (`--scan-binaries`: unknown formats yield their printable strings).
    All,
}

impl BinaryPolicy {
    fn keeps(self, path: &Path, data: &[u8]) -> bool {
        match self {
            BinaryPolicy::Skip => false,
            BinaryPolicy::Extractable => crate::extract::claims_binary(path, data),
            BinaryPolicy::All => true,
        }
    }
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            respect_gitignore: false,
            follow_symlinks: false,
            excludes: GlobSet::empty(),
            max_file_size: crate::DEFAULT_MAX_FILE_SIZE,
            binary: BinaryPolicy::default(),
        }
    }
}

/// Compiles `--exclude` globs. A glob matches a path relative to the scanned root, or a file or
/// directory name anywhere (`node_modules`, `*.min.js`).
pub fn build_excludes(globs: &[String]) -> Result<GlobSet, globset::Error> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(Glob::new(glob)?);
    }
    builder.build()
}

/// One item of a walk.
#[derive(Debug)]
pub enum WalkEntry {
    /// A regular file to read and scan.
    File(PathBuf),
    /// Not scanned, for a counted reason.
    Skipped(PathBuf, SkipReason),
    /// Could not be listed (permission denied, vanished, loop).
    Error(PathBuf, String),
}

/// Streams the files under `root` (or `root` itself if it is a file).
pub fn walk(root: &Path, options: &WalkOptions) -> impl Iterator<Item = WalkEntry> {
    let respect = options.respect_gitignore;
    let excludes = options.excludes.clone();
    let root_owned = root.to_path_buf();
    WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .ignore(respect)
        .parents(respect)
        .require_git(false)
        .follow_links(options.follow_symlinks)
        .filter_entry(move |entry| {
            entry.depth() == 0
                || (entry.file_name() != ".git"
                    && !is_excluded(&excludes, &root_owned, entry.path()))
        })
        .build()
        .filter_map(|result| match result {
            Ok(entry) => {
                let file_type = entry.file_type()?;
                let path = entry.into_path();
                if file_type.is_dir() {
                    None
                } else if file_type.is_file() {
                    Some(WalkEntry::File(path))
                } else if file_type.is_symlink() {
                    Some(WalkEntry::Skipped(path, SkipReason::Symlink))
                } else {
                    Some(WalkEntry::Skipped(path, SkipReason::Special))
                }
            }
            Err(err) => Some(walk_error(err)),
        })
}

fn is_excluded(excludes: &GlobSet, root: &Path, path: &Path) -> bool {
    if excludes.is_empty() {
        return false;
    }
    let relative = path.strip_prefix(root).unwrap_or(path);
    excludes.is_match(relative) || path.file_name().is_some_and(|name| excludes.is_match(name))
}

/// Whether a path inside a repository (`/`-separated, relative to its root) is excluded: the
/// same test as the directory walk's, for blobs found in history.
pub fn is_excluded_repo_path(excludes: &GlobSet, path: &str) -> bool {
    !excludes.is_empty() && is_excluded(excludes, Path::new(""), Path::new(path))
}

fn walk_error(err: ignore::Error) -> WalkEntry {
    fn path_of(err: &ignore::Error) -> Option<PathBuf> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path.clone()),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Loop { child, .. } => Some(child.clone()),
            _ => None,
        }
    }
    let path = path_of(&err).unwrap_or_default();
    WalkEntry::Error(path, err.to_string())
}

/// The outcome of reading one file.
#[derive(Debug)]
pub enum ReadOutcome {
    Blob(Blob),
    Skipped(SkipReason),
}

/// Reads a file for scanning, enforcing the size limit and skipping binary content that
/// [`WalkOptions::binary`] does not keep.
pub fn read_file(path: &Path, options: &WalkOptions) -> io::Result<ReadOutcome> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > options.max_file_size {
        return Ok(ReadOutcome::Skipped(SkipReason::TooLarge));
    }
    let mut data = Vec::with_capacity(size as usize);
    // take(): the file may grow between stat and read; never read past the limit.
    file.take(options.max_file_size + 1)
        .read_to_end(&mut data)?;
    if data.len() as u64 > options.max_file_size {
        return Ok(ReadOutcome::Skipped(SkipReason::TooLarge));
    }
    if is_binary(&data) && !options.binary.keeps(path, &data) {
        return Ok(ReadOutcome::Skipped(SkipReason::Binary));
    }
    Ok(ReadOutcome::Blob(Blob {
        data,
        provenance: Provenance::File {
            path: display_path(path),
        },
    }))
}

/// A path as users expect to see it: lossy UTF-8, without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_match_relative_paths_and_names() {
        let set =
            build_excludes(&["*.min.js".into(), "node_modules".into(), "docs/**".into()]).unwrap();
        let root = Path::new("/r");
        assert!(is_excluded(&set, root, Path::new("/r/a/b/app.min.js")));
        assert!(is_excluded(&set, root, Path::new("/r/x/node_modules")));
        assert!(is_excluded(&set, root, Path::new("/r/docs/guide.md")));
        assert!(!is_excluded(&set, root, Path::new("/r/src/main.rs")));
    }

    #[test]
    fn display_path_strips_dot_slash() {
        assert_eq!(display_path(Path::new("./src/a.rs")), "src/a.rs");
        assert_eq!(display_path(Path::new("/abs/a.rs")), "/abs/a.rs");
    }
}
