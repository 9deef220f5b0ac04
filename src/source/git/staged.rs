//! Staged changes: what `git commit` would record, for pre-commit hooks.
//!
//! The index is diffed against `HEAD` with no context lines, so only added or changed lines
//! count: a secret that was already committed does not block every later commit (history
//! scans find it). Each changed file's staged blob is scanned whole, so a multi-line secret
//! is still recognised, and a match is kept when one of its lines was added.

use std::{cell::RefCell, ops::RangeInclusive, path::Path};

use git2::{DiffOptions, Repository};

use crate::source::is_binary;

/// One staged file with added lines.
pub struct StagedFile {
    /// Path relative to the repository root.
    pub path: String,
    pub data: Vec<u8>,
    /// 1-based line ranges added or changed in the index.
    pub added_lines: Vec<RangeInclusive<usize>>,
}

impl StagedFile {
    /// Whether any line of `first..=last` was added.
    pub fn touches(&self, first: usize, last: usize) -> bool {
        self.added_lines
            .iter()
            .any(|range| *range.start() <= last && first <= *range.end())
    }
}

/// A changed file as the diff reports it, before its blob is read.
struct StagedDelta {
    path: String,
    oid: git2::Oid,
    added_lines: Vec<RangeInclusive<usize>>,
}

/// What the staged diff holds, binary files counted apart.
pub struct StagedChanges {
    pub files: Vec<StagedFile>,
    pub binary_files: u64,
}

/// The staged changes of the repository that contains `start` (searching upwards, as git does).
pub fn staged_changes(start: &Path) -> Result<StagedChanges, git2::Error> {
    let repo = Repository::discover(start)?;
    let index = repo.index()?;
    let head_tree = match repo.head() {
        Ok(head) => Some(head.peel_to_tree()?),
        // An unborn branch (first commit): everything staged is new.
        Err(err)
            if err.code() == git2::ErrorCode::UnbornBranch
                || err.code() == git2::ErrorCode::NotFound =>
        {
            None
        }
        Err(err) => return Err(err),
    };
    let mut options = DiffOptions::new();
    options.context_lines(0).ignore_submodules(true);
    let diff = repo.diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut options))?;

    // The file and hunk callbacks share this list; hunks belong to the last file pushed.
    let deltas: RefCell<Vec<StagedDelta>> = RefCell::new(Vec::new());
    diff.foreach(
        &mut |delta, _| {
            if let Some(path) = delta.new_file().path_bytes() {
                deltas.borrow_mut().push(StagedDelta {
                    path: String::from_utf8_lossy(path).into_owned(),
                    oid: delta.new_file().id(),
                    added_lines: Vec::new(),
                });
            }
            true
        },
        None,
        Some(&mut |_, hunk| {
            if hunk.new_lines() > 0 {
                if let Some(last) = deltas.borrow_mut().last_mut() {
                    let start = hunk.new_start() as usize;
                    last.added_lines
                        .push(start..=start + hunk.new_lines() as usize - 1);
                }
            }
            true
        }),
        None,
    )?;

    let mut changes = StagedChanges {
        files: Vec::new(),
        binary_files: 0,
    };
    for delta in deltas.into_inner() {
        if delta.added_lines.is_empty() || delta.oid.is_zero() {
            continue;
        }
        let blob = repo.find_blob(delta.oid)?;
        if blob.is_binary() || is_binary(blob.content()) {
            changes.binary_files += 1;
            continue;
        }
        changes.files.push(StagedFile {
            path: delta.path,
            data: blob.content().to_vec(),
            added_lines: delta.added_lines,
        });
    }
    Ok(changes)
}
