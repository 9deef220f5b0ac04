//! The data path of a scan, in one place:
//!
//! ```text
//! source (walk / stdin) → read blob → engine (prefilter → regex → entropy/checksum/filters)
//!        → locate + fold into findings → report
//! ```
//!
//! [`scan_inputs`] picks the sequential path for tiny inputs (one file, stdin: no thread pool to
//! start) and the rayon path otherwise. Both feed the same [`ScanState`], so they cannot drift.

use std::{
    io::{self, Read},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
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
        Blob, Provenance, SkipReason,
    },
};

/// What to scan: paths, or `-` for standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    Stdin,
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
    pub elapsed: Duration,
}

/// Shared by all workers: counters are atomic; findings and errors, rare, take a lock.
#[derive(Default)]
struct ScanState {
    blobs: AtomicU64,
    bytes: AtomicU64,
    skipped: [AtomicU64; 4],
    collector: Mutex<FindingCollector>,
    errors: Mutex<Vec<ScanError>>,
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
        self.state
            .push_error(provenance.path().to_string(), message);
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
        self.push_error(fs::display_path(path), message.into());
    }

    fn push_error(&self, path: String, message: String) {
        self.errors
            .lock()
            .expect("errors lock")
            .push(ScanError { path, message });
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
        ScanOutput {
            findings: self
                .collector
                .into_inner()
                .expect("collector lock")
                .into_findings(),
            stats: ScanStats {
                blobs_scanned: self.blobs.into_inner(),
                bytes_scanned: self.bytes.into_inner(),
                skipped_binary: binary,
                skipped_too_large: too_large,
                skipped_symlink: symlink,
                skipped_special: special,
                errors: errors.len() as u64,
            },
            errors,
            elapsed: started.elapsed(),
        }
    }
}

/// Scans every input and folds the findings.
pub fn scan_inputs(scanner: &Scanner, config: &ScanConfig, inputs: &[Input]) -> ScanOutput {
    let started = Instant::now();
    let state = ScanState {
        extract: config.extract.clone(),
        ..ScanState::default()
    };
    let progress = Progress::new(config.show_progress);
    for input in inputs {
        match input {
            Input::Stdin => scan_stdin(scanner, config, &state, &progress),
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
            Input::Path(path) => scan_directory(scanner, config, &state, path, &progress),
        }
    }
    progress.finish();
    state.finish(started)
}

fn scan_stdin(scanner: &Scanner, config: &ScanConfig, state: &ScanState, progress: &Progress) {
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

fn scan_directory(
    scanner: &Scanner,
    config: &ScanConfig,
    state: &ScanState,
    root: &Path,
    progress: &Progress,
) {
    let entries = fs::walk(root, &config.walk);
    let run = || {
        entries
            .par_bridge()
            .for_each(|entry| state.handle_entry(scanner, &config.walk, entry, progress))
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
    {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    }
}
