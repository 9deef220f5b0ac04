//! Git repositories: every unique blob in the history of all refs, read once, with provenance.
//!
//! A history scan runs in three steps, so that clean history costs only the read:
//! 1. [`discover`]: walk the commits of every ref oldest first and each *unique* tree once,
//!    recording each unique blob with the path and commit where it first appears. Trees seen
//!    before are skipped, so a blob's first sighting is in the first commit that has it.
//! 2. The pipeline reads and scans each blob once, in parallel ([`BlobReader`]).
//! 3. [`enrich`]: for blobs with findings only, load the commit (author, dates, summary) and
//!    check which branch heads still contain the blob.
//!
//! Staged changes (`scan --staged`) are in [`staged`]; remote clones in [`remote`].

pub mod catfile;
pub mod remote;
pub mod staged;
mod time;

use std::{
    collections::{HashMap, HashSet},
    path::Path,
};

use git2::{ObjectType, Oid, Repository, RepositoryOpenFlags, Sort};

use super::{is_binary, CommitInfo, GitLocation, Provenance, SkipReason};
use crate::finding::Finding;

pub use time::{civil_from_days, parse_date, rfc3339};

/// Which part of the history to scan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistorySelection {
    /// Refs to scan (`--branch`); empty means every ref, stashes included.
    pub refs: Vec<String>,
    /// Only commits after this (`--since`).
    pub since: Option<Since>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Since {
    /// Commits whose committer date is at or after these seconds since the epoch.
    Date(i64),
    /// Commits that are not ancestors of this commit-ish.
    Commit(String),
}

/// A unique blob and where it was first seen.
#[derive(Clone, Debug)]
pub struct BlobSighting {
    pub oid: Oid,
    pub path: String,
    pub commit_index: usize,
    /// A gitlink (submodule) or a symlink: listed to be counted, not read.
    pub skip: Option<SkipReason>,
}

/// The result of walking the history.
pub struct History {
    pub commits: Vec<Oid>,
    pub blobs: Vec<BlobSighting>,
    /// Every blob id in the selected history, to skip identical working-tree files.
    pub blob_ids: HashSet<Oid>,
    /// Problems met on the way (a missing object in a shallow or partial clone, a bad ref).
    pub errors: Vec<String>,
}

/// Opens `path` as a repository if it is one: a working copy's root or a bare repository, not
/// a subdirectory of one (a subdirectory is scanned as a directory).
pub fn open(path: &Path) -> Option<Repository> {
    Repository::open_ext(
        path,
        RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&str>(),
    )
    .ok()
}

/// Walks the selected history and lists every unique blob once.
pub fn discover(repo: &Repository, selection: &HistorySelection) -> Result<History, git2::Error> {
    limit_object_cache();
    let mut history = History {
        commits: Vec::new(),
        blobs: Vec::new(),
        blob_ids: HashSet::new(),
        errors: Vec::new(),
    };
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    push_refs(repo, &mut walk, selection, &mut history.errors)?;
    let min_time = match &selection.since {
        Some(Since::Date(seconds)) => Some(*seconds),
        Some(Since::Commit(spec)) => {
            let commit = repo.revparse_single(spec)?.peel_to_commit()?;
            walk.hide(commit.id())?;
            None
        }
        None => None,
    };
    let mut seen_trees = HashSet::new();
    for oid in walk {
        let commit = match oid.and_then(|oid| repo.find_commit(oid)) {
            Ok(commit) => commit,
            Err(err) => {
                history
                    .errors
                    .push(format!("history walk: {}", err.message()));
                continue;
            }
        };
        if min_time.is_some_and(|min| commit.committer().when().seconds() < min) {
            continue;
        }
        let commit_index = history.commits.len();
        history.commits.push(commit.id());
        let mut visit = TreeVisit {
            repo,
            commit_index,
            seen_trees: &mut seen_trees,
            history: &mut history,
        };
        visit.tree(commit.tree_id(), String::new());
    }
    Ok(history)
}

/// Bounds libgit2's memory. It keeps up to 256 MiB of parsed objects by default, but the walk
/// visits each tree once, so a cache buys little; and it maps pack files in windows of up to
/// 1 GiB, which count against our resident memory on a large repository.
fn limit_object_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: libgit2 global options must not change while other threads use libgit2.
        // This runs once, on the first discovery, before any reader thread exists.
        unsafe {
            let _ = git2::opts::set_cache_max_size(4 * 1024 * 1024);
            let _ = git2::opts::set_mwindow_size(8 * 1024 * 1024);
            let _ = git2::opts::set_mwindow_mapped_limit(32 * 1024 * 1024);
        }
    });
}

/// Pushes the selected refs, or every ref (branches, tags, remote-tracking refs, stash) and a
/// detached HEAD. A ref that does not lead to a commit (a tag of a blob) is noted and skipped.
fn push_refs(
    repo: &Repository,
    walk: &mut git2::Revwalk<'_>,
    selection: &HistorySelection,
    errors: &mut Vec<String>,
) -> Result<(), git2::Error> {
    if !selection.refs.is_empty() {
        for spec in &selection.refs {
            let commit = repo.revparse_single(spec)?.peel_to_commit()?;
            walk.push(commit.id())?;
        }
        return Ok(());
    }
    for reference in repo.references()? {
        let reference = match reference {
            Ok(reference) => reference,
            Err(err) => {
                errors.push(format!("reference: {}", err.message()));
                continue;
            }
        };
        match reference.peel_to_commit() {
            Ok(commit) => walk.push(commit.id())?,
            Err(_) => {
                // Tags of trees or blobs: nothing to walk. Not an error worth reporting.
            }
        }
    }
    if let Ok(head) = repo.head().and_then(|h| h.peel_to_commit()) {
        walk.push(head.id())?;
    }
    Ok(())
}

struct TreeVisit<'a> {
    repo: &'a Repository,
    commit_index: usize,
    seen_trees: &'a mut HashSet<Oid>,
    history: &'a mut History,
}

impl TreeVisit<'_> {
    fn tree(&mut self, oid: Oid, prefix: String) {
        if !self.seen_trees.insert(oid) {
            return;
        }
        let tree = match self.repo.find_tree(oid) {
            Ok(tree) => tree,
            Err(err) => {
                let at = if prefix.is_empty() { "/" } else { &prefix };
                self.history
                    .errors
                    .push(format!("tree {oid} at {at}: {}", err.message()));
                return;
            }
        };
        for entry in tree.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes());
            let path = format!("{prefix}{name}");
            match entry.kind() {
                Some(ObjectType::Tree) => self.tree(entry.id(), format!("{path}/")),
                Some(ObjectType::Blob) => {
                    let skip = (entry.filemode() == 0o120000).then_some(SkipReason::Symlink);
                    self.blob(entry.id(), path, skip);
                }
                // A gitlink: the submodule's commit lives in another repository.
                Some(ObjectType::Commit) => self.blob(entry.id(), path, Some(SkipReason::Special)),
                _ => {}
            }
        }
    }

    fn blob(&mut self, oid: Oid, path: String, skip: Option<SkipReason>) {
        if self.history.blob_ids.insert(oid) {
            self.history.blobs.push(BlobSighting {
                oid,
                path,
                commit_index: self.commit_index,
                skip,
            });
        }
    }
}

/// The outcome of reading one blob.
pub enum BlobRead {
    Data(Vec<u8>),
    Skipped(SkipReason),
}

/// Reads blobs for one worker thread. `git2::Repository` is not `Sync`, so each worker opens
/// its own handle on the same object database.
pub struct BlobReader {
    repo: Repository,
}

impl BlobReader {
    pub fn open(path: &Path) -> Result<BlobReader, git2::Error> {
        let repo = Repository::open_ext(
            path,
            RepositoryOpenFlags::NO_SEARCH,
            std::iter::empty::<&str>(),
        )?;
        Ok(BlobReader { repo })
    }

    /// Reads a blob unless it is larger than `max_size` or binary. The size comes from the
    /// object header, so an oversized blob is never inflated.
    pub fn read(&self, oid: Oid, max_size: u64) -> Result<BlobRead, git2::Error> {
        let odb = self.repo.odb()?;
        let (size, _) = odb.read_header(oid)?;
        if size as u64 > max_size {
            return Ok(BlobRead::Skipped(SkipReason::TooLarge));
        }
        let object = odb.read(oid)?;
        let data = object.data();
        if is_binary(data) {
            return Ok(BlobRead::Skipped(SkipReason::Binary));
        }
        Ok(BlobRead::Data(data.to_vec()))
    }
}

/// The provenance of a blob before enrichment.
pub fn provenance(repository: &str, sighting: &BlobSighting) -> Provenance {
    Provenance::Git(Box::new(GitLocation {
        repository: repository.to_string(),
        blob_id: sighting.oid.to_string(),
        path: sighting.path.clone(),
        commit_index: sighting.commit_index,
        commit: None,
        present_in: Vec::new(),
    }))
}

/// Fills in commit details and branch presence for the locations of `findings` that lie in
/// `repository` (as named in their provenance).
pub fn enrich(repo: &Repository, repository: &str, commits: &[Oid], findings: &mut [Finding]) {
    let wanted: HashSet<Oid> = git_locations(findings)
        .filter(|git| git.repository == repository)
        .filter_map(|git| Oid::from_str(&git.blob_id).ok())
        .collect();
    if wanted.is_empty() {
        return;
    }
    let presence = branch_presence(repo, &wanted);
    let mut commit_cache: HashMap<usize, Option<CommitInfo>> = HashMap::new();
    for finding in findings.iter_mut() {
        for location in &mut finding.locations {
            let Some(git) = location.provenance.git_mut() else {
                continue;
            };
            if git.repository != repository {
                continue;
            }
            git.commit = commit_cache
                .entry(git.commit_index)
                .or_insert_with(|| {
                    commits
                        .get(git.commit_index)
                        .and_then(|oid| commit_info(repo, *oid))
                })
                .clone();
            if let Ok(oid) = Oid::from_str(&git.blob_id) {
                git.present_in = presence.get(&oid).cloned().unwrap_or_default();
            }
        }
    }
}

fn git_locations(findings: &[Finding]) -> impl Iterator<Item = &GitLocation> {
    findings
        .iter()
        .flat_map(|f| &f.locations)
        .filter_map(|l| l.provenance.git())
}

fn commit_info(repo: &Repository, oid: Oid) -> Option<CommitInfo> {
    let commit = repo.find_commit(oid).ok()?;
    let author = commit.author();
    let committer = commit.committer();
    Some(CommitInfo {
        id: oid.to_string(),
        author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        author_date: rfc3339(author.when().seconds(), author.when().offset_minutes()),
        committer_date: rfc3339(
            committer.when().seconds(),
            committer.when().offset_minutes(),
        ),
        summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned(),
    })
}

/// For each wanted blob, the local branches whose head tree contains it.
fn branch_presence(repo: &Repository, wanted: &HashSet<Oid>) -> HashMap<Oid, Vec<String>> {
    let mut presence: HashMap<Oid, Vec<String>> = HashMap::new();
    let Ok(branches) = repo.branches(Some(git2::BranchType::Local)) else {
        return presence;
    };
    for (branch, _) in branches.flatten() {
        let Ok(Some(name)) = branch.name().map(|n| n.map(str::to_string)) else {
            continue;
        };
        let Ok(tree) = branch.get().peel_to_tree() else {
            continue;
        };
        let mut found = HashSet::new();
        let _ = tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
            if wanted.contains(&entry.id()) {
                found.insert(entry.id());
            }
            git2::TreeWalkResult::Ok
        });
        for oid in found {
            presence.entry(oid).or_default().push(name.clone());
        }
    }
    for names in presence.values_mut() {
        names.sort();
    }
    presence
}

/// The working directory of a non-bare repository.
pub fn workdir(repo: &Repository) -> Option<&Path> {
    repo.workdir()
}

/// The id git would give `data` as a blob, to tell committed files from changed ones.
pub fn blob_id(data: &[u8]) -> Option<Oid> {
    Oid::hash_object(ObjectType::Blob, data).ok()
}

/// Scans a repository's whole history into a [`BlobSink`] (how `leakhound hf --history` reads
/// a temporary clone that is gone before the scan's findings are folded). Each blob's
/// provenance is therefore complete when it is pushed: commit details and branch presence are
/// computed up front, for every blob. Fine for Hub repositories; `scan` of a local repository
/// keeps the cheaper path that enriches only blobs with findings.
pub fn scan_into_sink(
    git_dir: &Path,
    repository: &str,
    max_size: u64,
    sink: &dyn super::BlobSink,
) -> Result<(), String> {
    let repo =
        open(git_dir).ok_or_else(|| format!("{} is not a git repository", git_dir.display()))?;
    let history =
        discover(&repo, &HistorySelection::default()).map_err(|e| e.message().to_string())?;
    for error in &history.errors {
        sink.error(repository, error);
    }
    let presence = branch_presence(&repo, &history.blob_ids);
    let mut commits: HashMap<usize, Option<CommitInfo>> = HashMap::new();
    let reader = BlobReader::open(git_dir).map_err(|e| e.message().to_string())?;
    for sighting in &history.blobs {
        if let Some(reason) = sighting.skip {
            sink.skip(reason);
            continue;
        }
        match reader.read(sighting.oid, max_size) {
            Ok(BlobRead::Data(data)) => {
                let commit = commits
                    .entry(sighting.commit_index)
                    .or_insert_with(|| commit_info(&repo, history.commits[sighting.commit_index]))
                    .clone();
                let provenance = Provenance::Git(Box::new(GitLocation {
                    repository: repository.to_string(),
                    blob_id: sighting.oid.to_string(),
                    path: sighting.path.clone(),
                    commit_index: sighting.commit_index,
                    commit,
                    present_in: presence.get(&sighting.oid).cloned().unwrap_or_default(),
                }));
                sink.blob(super::Blob { data, provenance });
            }
            Ok(BlobRead::Skipped(reason)) => sink.skip(reason),
            Err(err) => sink.error(&format!("{repository}: {}", sighting.path), err.message()),
        }
    }
    Ok(())
}
