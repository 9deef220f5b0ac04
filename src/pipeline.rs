//! The data path of a scan, in one place:
//!
//! ```text
//! source (walk / stdin) → read blob → engine (prefilter → regex → entropy/checksum/filters)
//!        → locate + fold into findings → report
//! ```
//!
//! A git repository adds two steps around the scan: history discovery before (every unique
//! blob once, see `source::git`) and provenance enrichment after, for blobs with findings only.
//!
//! [`scan_inputs`] picks the sequential path for tiny inputs (one file, stdin: no thread pool to
//! start) and the rayon path otherwise. Both feed the same [`ScanState`], so they cannot drift.
//! [`scan_staged`] is the pre-commit path: single-threaded, staged blobs only.

use std::{
    io::{self, Read},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use rayon::prelude::*;

use crate::{
    engine::Scanner,
    extract::{self, ExtractConfig, ExtractError},
    finding::{Finding, FindingCollector},
    progress::Progress,
    source::{
        fs::{self, ReadOutcome, WalkEntry, WalkOptions},
        git::{self, BlobRead, BlobReader, HistorySelection},
        Blob, BlobSink, Provenance, SkipReason,
    },
    suppress::{Suppressed, Suppressor},
};

/// What to scan: paths, remote repository URLs, or `-` for standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    /// A repository URL, cloned bare into a temporary directory.
    Remote(String),
    Stdin,
}

/// How git repositories are scanned.
#[derive(Clone, Debug, Default)]
pub struct GitOptions {
    /// Scan only the working tree of a repository (`--no-history`).
    pub skip_history: bool,
    pub selection: HistorySelection,
}

/// Everything a scan needs besides the engine, validated before any work starts.
#[derive(Clone, Debug, Default)]
pub struct ScanConfig {
    pub walk: WalkOptions,
    /// Archives, notebooks, model files, encoded runs: see [`extract`].
    pub extract: ExtractConfig,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    pub show_progress: bool,
    pub git: GitOptions,
    /// Inline ignores, allowlists, ignore files and the baseline.
    pub suppress: Arc<Suppressor>,
}

/// An input that could not be scanned, with the reason. Reported, counted, never fatal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScanError {
    pub path: String,
    pub message: String,
}

/// Counters for the summary line and the JSON report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped_binary: u64,
    pub skipped_too_large: u64,
    pub skipped_symlink: u64,
    pub skipped_special: u64,
    pub errors: u64,
    /// Commits walked in git histories.
    pub commits: u64,
}

impl ScanStats {
    pub fn skipped_total(&self) -> u64 {
        self.skipped_binary + self.skipped_too_large + self.skipped_symlink + self.skipped_special
    }
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct ScanOutput {
    pub findings: Vec<Finding>,
    pub stats: ScanStats,
    pub errors: Vec<ScanError>,
    /// Things the user should know that are not errors (a fallback taken, for example).
    pub notes: Vec<String>,
    /// Finding locations left out because the user said they are known.
    pub suppressed: Suppressed,
    /// What `--validate` did: requests and outcome counts (before `--only-live`).
    pub validation: Option<crate::validate::ValidationRun>,
    pub elapsed: Duration,
}

/// Shared by all workers: counters are atomic; findings and errors, rare, take a lock.
#[derive(Default)]
struct ScanState {
    blobs: AtomicU64,
    bytes: AtomicU64,
    skipped: [AtomicU64; 4],
    commits: AtomicU64,
    collector: Mutex<FindingCollector>,
    errors: Mutex<Vec<ScanError>>,
    notes: Mutex<Vec<String>>,
    extract: ExtractConfig,
}

/// The extractor stage pushes the outer blob and every derived one here.
struct EngineSink<'a> {
    state: &'a ScanState,
    scanner: &'a Scanner,
}

impl extract::Sink for EngineSink<'_> {
    fn scan(&mut self, blob: &Blob) {
        self.state.scan_one(self.scanner, blob);
    }

    fn skip(&mut self, reason: SkipReason) {
        self.state.skip(reason);
    }

    fn error(&mut self, provenance: &Provenance, error: &ExtractError) {
        let message = match provenance.within() {
            Some(within) => format!("{within}: {error}"),
            None => error.to_string(),
        };
        self.state.error_at(provenance.path().to_string(), message);
    }
}

impl ScanState {
    /// Scans a blob and everything the extractors find inside it.
    fn scan_blob(&self, scanner: &Scanner, blob: &Blob, progress: &Progress) {
        let mut sink = EngineSink {
            state: self,
            scanner,
        };
        extract::walk(&self.extract, blob, &mut sink);
        progress.blob_done(blob.data.len() as u64);
    }

    fn scan_one(&self, scanner: &Scanner, blob: &Blob) {
        let matches = scanner.scan(&blob.data);
        self.blobs.fetch_add(1, Ordering::Relaxed);
        self.bytes
            .fetch_add(blob.data.len() as u64, Ordering::Relaxed);
        if !matches.is_empty() {
            let mut collector = self.collector.lock().expect("collector lock");
            collector.add(scanner, &blob.provenance, &blob.data, &matches);
        }
    }

    fn skip(&self, reason: SkipReason) {
        let slot = match reason {
            SkipReason::Binary => 0,
            SkipReason::TooLarge => 1,
            SkipReason::Symlink => 2,
            SkipReason::Special => 3,
        };
        self.skipped[slot].fetch_add(1, Ordering::Relaxed);
    }

    fn error(&self, path: &Path, message: impl Into<String>) {
        self.error_at(fs::display_path(path), message);
    }

    fn error_at(&self, path: String, message: impl Into<String>) {
        self.errors.lock().expect("errors lock").push(ScanError {
            path,
            message: message.into(),
        });
    }

    fn handle_entry(
        &self,
        scanner: &Scanner,
        walk: &WalkOptions,
        entry: WalkEntry,
        progress: &Progress,
    ) {
        match entry {
            WalkEntry::File(path) => match fs::read_file(&path, walk) {
                Ok(ReadOutcome::Blob(blob)) => self.scan_blob(scanner, &blob, progress),
                Ok(ReadOutcome::Skipped(reason)) => self.skip(reason),
                Err(err) => self.error(&path, err.to_string()),
            },
            WalkEntry::Skipped(_, reason) => self.skip(reason),
            WalkEntry::Error(path, message) => self.error(&path, message),
        }
    }

    fn finish(self, started: Instant) -> ScanOutput {
        let mut errors = self.errors.into_inner().expect("errors lock");
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        let [binary, too_large, symlink, special] = self.skipped.map(AtomicU64::into_inner);
        let collector = self.collector.into_inner().expect("collector lock");
        let suppressed = collector.suppressed();
        ScanOutput {
            findings: collector.into_findings(),
            suppressed,
            stats: ScanStats {
                blobs_scanned: self.blobs.into_inner(),
                bytes_scanned: self.bytes.into_inner(),
                skipped_binary: binary,
                skipped_too_large: too_large,
                skipped_symlink: symlink,
                skipped_special: special,
                errors: errors.len() as u64,
                commits: self.commits.into_inner(),
            },
            errors,
            notes: self.notes.into_inner().expect("notes lock"),
            validation: None,
            elapsed: started.elapsed(),
        }
    }

    fn note(&self, note: String) {
        self.notes.lock().expect("notes lock").push(note);
    }
}

/// A repository scanned in this run, kept open until its findings are enriched.
struct ScannedRepo {
    display: String,
    path: PathBuf,
    commits: Vec<git2::Oid>,
    /// Holds a temporary clone alive until enrichment is done.
    _clone: Option<git::remote::TempClone>,
}

/// What every stage of one scan shares: the engine, the config, the shared state and the
/// progress display. Passed as one value so the stage functions take only what varies.
#[derive(Clone, Copy)]
struct Run<'a> {
    scanner: &'a Scanner,
    config: &'a ScanConfig,
    state: &'a ScanState,
    progress: &'a Progress,
}

/// Scans every input and folds the findings.
pub fn scan_inputs(scanner: &Scanner, config: &ScanConfig, inputs: &[Input]) -> ScanOutput {
    let started = Instant::now();
    let state = ScanState {
        extract: config.extract.clone(),
        collector: Mutex::new(FindingCollector::new(config.suppress.clone())),
        ..ScanState::default()
    };
    let progress = Progress::new(config.show_progress);
    let run = Run {
        scanner,
        config,
        state: &state,
        progress: &progress,
    };
    let mut repos = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin => scan_stdin(run),
            Input::Remote(url) => match git::remote::clone_bare(url) {
                Ok(clone) => {
                    let path = clone.path();
                    if let Some(mut repo) = scan_repository(run, &path, url) {
                        repo._clone = Some(clone);
                        repos.push(repo);
                    }
                }
                Err(err) => state.error_at(url.clone(), err.to_string()),
            },
            Input::Path(path) if path.is_file() => {
                // One named file: no walk, no thread pool.
                state.handle_entry(
                    scanner,
                    &config.walk,
                    WalkEntry::File(path.clone()),
                    &progress,
                )
            }
            Input::Path(path) if !path.exists() => state.error(path, "no such file or directory"),
            Input::Path(path) if !config.git.skip_history && git::open(path).is_some() => {
                let display = fs::display_path(path);
                if let Some(repo) = scan_repository(run, path, &display) {
                    repos.push(repo);
                }
            }
            Input::Path(path) => {
                if !config.git.skip_history && path.join(".git").exists() {
                    state.note(format!(
                        "{}: has .git but is not a readable git repository; scanning it as a directory",
                        fs::display_path(path)
                    ));
                }
                scan_directory(run, path, None)
            }
        }
    }
    progress.finish();
    let mut output = state.finish(started);
    for repo in &repos {
        if let Some(handle) = git::open(&repo.path) {
            git::enrich(&handle, &repo.display, &repo.commits, &mut output.findings);
        }
    }
    config
        .suppress
        .after_scan(&mut output.findings, &mut output.suppressed);
    output.elapsed = started.elapsed();
    output
}

/// Scans a repository's history (each unique blob once), then its uncommitted files.
fn scan_repository(run: Run, path: &Path, display: &str) -> Option<ScannedRepo> {
    let Run {
        config,
        state,
        progress,
        ..
    } = run;
    let repo = git::open(path)?;
    let history = match git::discover(&repo, &config.git.selection) {
        Ok(history) => history,
        Err(err) => {
            state.error_at(
                display.to_string(),
                format!("cannot read git history: {}", err.message()),
            );
            return None;
        }
    };
    for error in &history.errors {
        state.error_at(display.to_string(), error.clone());
    }
    state
        .commits
        .fetch_add(history.commits.len() as u64, Ordering::Relaxed);
    // Excluded paths are left out of history as out of the working tree: not read, not
    // counted. A blob is judged by the path that first introduced it.
    let blobs: Vec<&git::BlobSighting> = history
        .blobs
        .iter()
        .filter(|blob| !fs::is_excluded_repo_path(&config.walk.excludes, &blob.path))
        .collect();
    progress.set_total(blobs.len() as u64);
    if blobs.len() == history.blobs.len() {
        scan_history_blobs(run, &repo, path, display, &history.blobs);
    } else {
        let blobs: Vec<git::BlobSighting> = blobs.into_iter().cloned().collect();
        scan_history_blobs(run, &repo, path, display, &blobs);
    }
    if git::workdir(&repo).is_some() {
        // `path` is the working copy's root (repositories are opened without searching
        // upwards), as the user wrote it, so reported paths stay relative.
        scan_directory(run, path, Some(&history.blob_ids));
    }
    Some(ScannedRepo {
        display: display.to_string(),
        path: path.to_path_buf(),
        commits: history.commits,
        _clone: None,
    })
}

/// Reads and scans every discovered blob: through `git cat-file` in pack order when git is
/// installed (fast), and through libgit2 otherwise or for whatever git could not deliver.
fn scan_history_blobs(
    run: Run,
    repo: &git2::Repository,
    path: &Path,
    display: &str,
    blobs: &[git::BlobSighting],
) {
    let Run { config, state, .. } = run;
    let mut done = vec![false; blobs.len()];
    for (index, sighting) in blobs.iter().enumerate() {
        if let Some(reason) = sighting.skip {
            state.skip(reason);
            done[index] = true;
        }
    }
    if git::catfile::git_available() {
        // A few blobs in flight per worker: memory stays at about (workers + queue) blobs.
        let queue = 2 * rayon_threads(config.threads);
        let (sender, receiver) = std::sync::mpsc::sync_channel::<git::catfile::CatFileBlob>(queue);
        let result = std::thread::scope(|scope| {
            // Workers scan while this thread feeds them; the bounded channel bounds memory.
            scope.spawn(|| {
                in_pool(config.threads, || {
                    receiver.into_iter().par_bridge().for_each(|item| {
                        let sighting = &blobs[item.index];
                        handle_git_read(run, display, sighting, item.read)
                    })
                })
            });
            let result =
                git::catfile::read_blobs(repo.path(), blobs, config.walk.max_file_size, |item| {
                    done[item.index] = true;
                    let _ = sender.send(item);
                });
            drop(sender);
            result
        });
        if let Err(err) = result {
            state.note(format!(
                "{display}: git cat-file stopped ({err}); reading the rest with libgit2"
            ));
        }
    }
    let rest: Vec<&git::BlobSighting> = blobs
        .iter()
        .zip(&done)
        .filter(|(_, done)| !**done)
        .map(|(b, _)| b)
        .collect();
    in_pool(config.threads, || {
        // Chunks, so that each worker opens one repository handle per chunk, not per blob.
        rest.par_chunks(64).for_each(|chunk| {
            let reader = match BlobReader::open(path) {
                Ok(reader) => reader,
                Err(err) => return state.error_at(display.to_string(), err.message().to_string()),
            };
            for sighting in chunk {
                let read = reader
                    .read(sighting.oid, config.walk.max_file_size)
                    .map_err(|e| e.message().to_string());
                handle_git_read(run, display, sighting, read);
            }
        })
    });
}

fn handle_git_read(
    run: Run,
    display: &str,
    sighting: &git::BlobSighting,
    read: Result<BlobRead, String>,
) {
    let Run {
        scanner,
        state,
        progress,
        ..
    } = run;
    match read {
        Ok(BlobRead::Data(data)) => {
            let blob = Blob {
                data,
                provenance: git::provenance(display, sighting),
            };
            state.scan_blob(scanner, &blob, progress)
        }
        Ok(BlobRead::Skipped(reason)) => state.skip(reason),
        Err(message) => state.error_at(
            format!("{display}: {} (blob {})", sighting.path, sighting.oid),
            message,
        ),
    }
}

/// The worker count a pool of `threads` (0: one per core) will have.
fn rayon_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        threads
    }
}

fn in_pool(threads: usize, run: impl FnOnce() + Send) {
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    }
}

fn scan_stdin(run: Run) {
    let Run {
        scanner,
        config,
        state,
        progress,
    } = run;
    let mut data = Vec::new();
    let limit = config.walk.max_file_size;
    match io::stdin().lock().take(limit + 1).read_to_end(&mut data) {
        Ok(_) if data.len() as u64 > limit => state.skip(SkipReason::TooLarge),
        Ok(_) => {
            let blob = Blob {
                data,
                provenance: Provenance::Stdin,
            };
            state.scan_blob(scanner, &blob, progress)
        }
        Err(err) => state.error(Path::new("<stdin>"), err.to_string()),
    }
}

/// Walks a directory and scans every file. With `committed`, files whose content is a blob
/// the history scan already read are skipped (the working tree of a scanned repository).
fn scan_directory(run: Run, root: &Path, committed: Option<&std::collections::HashSet<git2::Oid>>) {
    let Run {
        scanner,
        config,
        state,
        progress,
    } = run;
    let entries = fs::walk(root, &config.walk);
    let run = || {
        entries
            .par_bridge()
            .for_each(|entry| match (entry, committed) {
                (WalkEntry::File(path), Some(committed)) => {
                    match fs::read_file(&path, &config.walk) {
                        Ok(ReadOutcome::Blob(blob)) => {
                            if !git::blob_id(&blob.data).is_some_and(|id| committed.contains(&id)) {
                                state.scan_blob(scanner, &blob, progress)
                            }
                        }
                        Ok(ReadOutcome::Skipped(reason)) => state.skip(reason),
                        Err(err) => state.error(&path, err.to_string()),
                    }
                }
                (entry, _) => state.handle_entry(scanner, &config.walk, entry, progress),
            })
    };
    in_pool(config.threads, run);
}

/// The pre-commit path: scans the staged blobs of the repository that contains `start`, on the
/// calling thread (no pool to start for a handful of files), and keeps only matches that touch
/// an added or changed line.
pub fn scan_staged(
    scanner: &Scanner,
    config: &ScanConfig,
    start: &Path,
) -> Result<ScanOutput, git2::Error> {
    let started = Instant::now();
    let changes = git::staged::staged_changes(start)?;
    let mut collector = FindingCollector::new(config.suppress.clone());
    let mut stats = ScanStats {
        skipped_binary: changes.binary_files,
        ..ScanStats::default()
    };
    for file in &changes.files {
        if file.data.len() as u64 > config.walk.max_file_size {
            stats.skipped_too_large += 1;
            continue;
        }
        stats.blobs_scanned += 1;
        stats.bytes_scanned += file.data.len() as u64;
        let matches: Vec<_> = scanner
            .scan(&file.data)
            .into_iter()
            .filter(|m| {
                let first = line_of(&file.data, m.start);
                let last = first + memchr::memchr_iter(b'\n', &file.data[m.start..m.end]).count();
                file.touches(first, last)
            })
            .collect();
        if !matches.is_empty() {
            let provenance = Provenance::File {
                path: file.path.clone(),
            };
            collector.add(scanner, &provenance, &file.data, &matches);
        }
    }
    let mut suppressed = collector.suppressed();
    let mut findings = collector.into_findings();
    config.suppress.after_scan(&mut findings, &mut suppressed);
    Ok(ScanOutput {
        findings,
        stats,
        errors: Vec::new(),
        notes: Vec::new(),
        suppressed,
        validation: None,
        elapsed: started.elapsed(),
    })
}

/// The 1-based line of byte `offset`.
fn line_of(data: &[u8], offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &data[..offset]).count() + 1
}

/// Scans what a pushing source (the Hub) hands over from its own threads: the same state and
/// folding as [`scan_inputs`]. Returns the output and whatever the source returns.
pub fn scan_pushed<T>(
    scanner: &Scanner,
    suppress: &Arc<Suppressor>,
    show_progress: bool,
    source: impl FnOnce(&dyn BlobSink) -> T,
) -> (ScanOutput, T) {
    let started = Instant::now();
    let state = ScanState {
        collector: Mutex::new(FindingCollector::new(suppress.clone())),
        ..ScanState::default()
    };
    let progress = Progress::new(show_progress);
    let result = source(&StateSink {
        scanner,
        state: &state,
        progress: &progress,
    });
    progress.finish();
    let mut output = state.finish(started);
    suppress.after_scan(&mut output.findings, &mut output.suppressed);
    (output, result)
}

/// The scan state seen as a [`BlobSink`].
struct StateSink<'a> {
    scanner: &'a Scanner,
    state: &'a ScanState,
    progress: &'a Progress,
}

impl BlobSink for StateSink<'_> {
    fn blob(&self, blob: Blob) {
        self.state.scan_blob(self.scanner, &blob, self.progress);
    }

    fn skip(&self, reason: SkipReason) {
        self.state.skip(reason);
    }

    fn error(&self, path: &str, message: &str) {
        self.state
            .errors
            .lock()
            .expect("errors lock")
            .push(ScanError {
                path: path.to_string(),
                message: message.to_string(),
            });
    }

    fn note(&self, line: &str) {
        self.progress.println(line);
    }
}
