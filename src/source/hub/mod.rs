//! The Hugging Face Hub source: repos, whole accounts, and their discussions, scanned over the
//! Hub's HTTP API without cloning.
//!
//! ```text
//! targets → jobs (one per repo; accounts stream listing pages) ─┬─ revision → sha
//!                                                               ├─ tree pages → files → blobs
//!                                                               ├─ discussions → blobs
//!                                                               └─ history hook (--history)
//! ```
//!
//! Jobs run on a rayon pool of `threads` workers (network-bound, so more than the cores);
//! repos, a repo's files and its discussions all share it. Listings and trees are iterators
//! that fetch a page when the previous one is used up, so a sweep of thousands of repos starts
//! scanning after one page and never holds the whole listing. Blobs go to a [`BlobSink`] (the
//! scan pipeline), which scans them on the fetching thread.
//!
//! A repo the token cannot read (gated, missing, private, refused) is skipped with the Hub's
//! reason; any other failure marks it failed; either way the sweep goes on and the error is in
//! the report.

pub mod api;
pub mod client;
pub mod discussions;
pub mod error;
pub mod files;
pub mod headers;
pub mod history;
pub mod provenance;
pub mod target;
pub mod zip;

use std::{
    collections::HashSet,
    iter,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, OnceLock,
    },
    time::Duration,
};

use rayon::prelude::*;

pub use client::{ClientConfig, Denial, HubClient, HubError, RetryPolicy, Token};
pub use history::HistoryScanner;
pub use provenance::{DiscussionPart, DiscussionRef, HubLocation, RepoRef, RepoType};
pub use target::{parse_target, Target, TargetError};

use self::{
    api::{DiscussionPages, LinkPages, ListedRepo, TreeEntry},
    files::{Fetched, FileError},
};
use super::{Blob, BlobSink, Provenance};

/// Worker threads when `--threads` is 0: requests wait on the network, not on the cores.
pub const DEFAULT_THREADS: usize = 8;

/// A validated Hub scan.
#[derive(Clone, Debug)]
pub struct HubConfig {
    pub client: ClientConfig,
    pub targets: Vec<Target>,
    /// `--revision`, for every repo whose target does not name one.
    pub revision: Option<String>,
    pub discussions: bool,
    pub max_file_size: u64,
    /// Worker threads; 0 means [`DEFAULT_THREADS`].
    pub threads: usize,
    /// One line per repo on stderr (through the sink).
    pub progress_lines: bool,
    /// Scans each repo's git history; `None` without `--history`.
    pub history: Option<HistoryScanner>,
}

/// What a sweep did, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepSummary {
    pub repos_scanned: u64,
    /// Not readable with this token: gated, missing, private, refused.
    pub repos_skipped: u64,
    pub repos_failed: u64,
    /// Files (or weight-file parts) handed to the engine.
    pub files_scanned: u64,
    pub discussions_scanned: u64,
    /// HTTP requests sent, retries and redirect hops included.
    pub requests: u64,
    /// Time spent waiting on rate limits and backoff, summed over workers.
    pub waited: Duration,
}

impl SweepSummary {
    /// `3 repos scanned, 1 skipped, 0 failed; 12 files, 4 discussions; 57 HTTP requests`.
    pub fn line(&self) -> String {
        let mut line = format!(
            "Hub: {} repos scanned, {} skipped, {} failed; {} files, {} discussions; {} HTTP requests",
            self.repos_scanned,
            self.repos_skipped,
            self.repos_failed,
            self.files_scanned,
            self.discussions_scanned,
            self.requests
        );
        if self.waited >= Duration::from_secs(1) {
            line.push_str(&format!(
                "; waited {}s for rate limits and retries",
                self.waited.as_secs()
            ));
        }
        line
    }
}

/// Scans every target, pushing blobs into `sink`. Fails only if no HTTP client can be built.
pub fn sweep(config: &HubConfig, sink: &dyn BlobSink) -> Result<SweepSummary, HubError> {
    let client = HubClient::new(config.client.clone())?;
    let sweep = Sweep {
        config,
        client: &client,
        sink,
        seen: Mutex::default(),
        tally: Tally::default(),
    };
    let threads = match config.threads {
        0 => DEFAULT_THREADS,
        n => n,
    };
    let run = || sweep.jobs().par_bridge().for_each(|job| sweep.run(job));
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    }
    Ok(sweep.summary())
}

/// One unit of work.
enum Job {
    Repo(RepoJob),
    /// An account listing page that could not be fetched.
    ListingFailed {
        label: String,
        error: HubError,
    },
}

struct RepoJob {
    repo: RepoRef,
    /// The revision the user named, if any.
    revision: Option<String>,
    /// The commit, when the listing already said (default branch only).
    sha: Option<String>,
}

#[derive(Default)]
struct Tally {
    scanned: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
    files: AtomicU64,
    discussions: AtomicU64,
}

struct Sweep<'a> {
    config: &'a HubConfig,
    client: &'a HubClient,
    sink: &'a dyn BlobSink,
    /// Repos already scanned: an account and one of its repos may both be named.
    seen: Mutex<HashSet<RepoRef>>,
    tally: Tally,
}

impl<'a> Sweep<'a> {
    /// Every repo to scan, listing pages fetched as the workers need them.
    fn jobs(&self) -> impl Iterator<Item = Job> + Send + '_ {
        self.config.targets.iter().flat_map(move |target| {
            let jobs: Box<dyn Iterator<Item = Job> + Send + '_> = match target {
                Target::Repo { repo, revision } => Box::new(iter::once(Job::Repo(RepoJob {
                    repo: repo.clone(),
                    revision: revision.clone().or_else(|| self.config.revision.clone()),
                    sha: None,
                }))),
                Target::Account { owner, types } => Box::new(
                    types
                        .iter()
                        .flat_map(move |&repo_type| self.listing(owner, repo_type)),
                ),
            };
            jobs
        })
    }

    fn listing(&self, owner: &str, repo_type: RepoType) -> impl Iterator<Item = Job> + Send + '_ {
        let label = format!("hf://{}{owner}", repo_type.url_prefix());
        let url = api::listing_url(self.client, repo_type, owner);
        LinkPages::<ListedRepo>::new(self.client, url).map(move |item| match item {
            Ok(listed) => Job::Repo(RepoJob {
                repo: RepoRef::new(repo_type, listed.id),
                revision: self.config.revision.clone(),
                sha: listed.sha.filter(|_| self.config.revision.is_none()),
            }),
            Err(error) => Job::ListingFailed {
                label: label.clone(),
                error,
            },
        })
    }

    fn run(&self, job: Job) {
        match job {
            Job::ListingFailed { label, error } => {
                self.sink
                    .error(&label, &format!("listing repos failed: {error}"));
            }
            Job::Repo(job) => {
                if self
                    .seen
                    .lock()
                    .expect("seen lock")
                    .insert(job.repo.clone())
                {
                    let outcome = self.scan_repo(&job);
                    self.record(&job.repo, outcome);
                }
            }
        }
    }

    fn scan_repo(&self, job: &RepoJob) -> Outcome {
        let sha = match &job.sha {
            Some(sha) => sha.clone(),
            None => {
                let revision = job.revision.as_deref().unwrap_or("main");
                match api::resolve_revision(self.client, &job.repo, revision) {
                    Ok(sha) => sha,
                    Err(err) => return Outcome::from_repo_error(err),
                }
            }
        };
        let repo = RepoScan {
            sweep: self,
            repo: &job.repo,
            requested: job.revision.as_deref(),
            sha: &sha,
            denied: OnceLock::new(),
            files: AtomicU64::new(0),
            discussions: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        };
        repo.scan_files();
        if self.config.discussions {
            repo.scan_discussions();
        }
        if let (Some(scanner), None) = (self.config.history, repo.denied.get()) {
            repo.scan_history(scanner);
        }
        repo.outcome()
    }

    /// Counts the outcome, reports a skipped or failed repo, prints the progress line.
    fn record(&self, repo: &RepoRef, outcome: Outcome) {
        let line = match &outcome {
            Outcome::Scanned {
                sha,
                files,
                discussions,
                errors,
            } => {
                self.tally.scanned.fetch_add(1, Ordering::Relaxed);
                self.tally.files.fetch_add(*files, Ordering::Relaxed);
                self.tally
                    .discussions
                    .fetch_add(*discussions, Ordering::Relaxed);
                let errors = match errors {
                    0 => String::new(),
                    n => format!(", {n} errors"),
                };
                let short = &sha[..sha.len().min(7)];
                format!(
                    "{}@{short}: {files} files, {discussions} discussions{errors}",
                    repo.display()
                )
            }
            Outcome::Skipped(reason) | Outcome::Failed(reason) => {
                let counter = match outcome {
                    Outcome::Skipped(_) => &self.tally.skipped,
                    _ => &self.tally.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                self.sink.error(&repo.display(), reason);
                format!("{}: {reason}", repo.display())
            }
        };
        if self.config.progress_lines {
            self.sink.note(&line);
        }
    }

    fn summary(&self) -> SweepSummary {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        SweepSummary {
            repos_scanned: get(&self.tally.scanned),
            repos_skipped: get(&self.tally.skipped),
            repos_failed: get(&self.tally.failed),
            files_scanned: get(&self.tally.files),
            discussions_scanned: get(&self.tally.discussions),
            requests: self.client.requests(),
            waited: self.client.waited(),
        }
    }
}

/// How a repo ended.
enum Outcome {
    Scanned {
        sha: String,
        files: u64,
        discussions: u64,
        errors: u64,
    },
    /// Not readable with this token; the reason says why.
    Skipped(String),
    Failed(String),
}

impl Outcome {
    /// An error that stopped the repo before its files: denied repos are skipped.
    fn from_repo_error(err: HubError) -> Outcome {
        // The revision endpoint 404s without a code only for a missing repo.
        let denial = err.denial().or_else(|| {
            (err.status() == Some(404) && err.code().is_none()).then_some(Denial::NotFound)
        });
        match denial {
            Some(denial) => Outcome::Skipped(format!("skipped: {}: {err}", denial_text(denial))),
            None => Outcome::Failed(format!("failed: {err}")),
        }
    }
}

fn denial_text(denial: Denial) -> &'static str {
    match denial {
        Denial::Gated => "gated repo, access not granted to this token",
        Denial::NotFound => "not found (missing, or private and the token cannot read it)",
        Denial::Forbidden => "access refused",
    }
}

/// One repo at one commit, being scanned by several workers.
struct RepoScan<'s, 'a> {
    sweep: &'s Sweep<'a>,
    repo: &'s RepoRef,
    requested: Option<&'s str>,
    sha: &'s str,
    /// Set by the first request that says the repo is closed (a gated download): the
    /// remaining files are not requested.
    denied: OnceLock<HubError>,
    files: AtomicU64,
    discussions: AtomicU64,
    errors: AtomicU64,
}

impl RepoScan<'_, '_> {
    fn scan_files(&self) {
        let client = self.sweep.client;
        let tree = LinkPages::<TreeEntry>::new(client, api::tree_url(client, self.repo, self.sha));
        tree.par_bridge().for_each(|entry| match entry {
            Ok(entry) if entry.is_file() => self.scan_file(&entry),
            Ok(_) => {}
            Err(err) if err.denial().is_some() => self.deny(err),
            Err(err) => self.error(
                &self.repo.display(),
                &format!("listing files failed: {err}"),
            ),
        });
    }

    fn scan_file(&self, entry: &TreeEntry) {
        if self.denied.get().is_some() {
            return;
        }
        let config = self.sweep.config;
        let client = self.sweep.client;
        let plan = files::plan(entry, config.max_file_size);
        let url = api::resolve_url(client, self.repo, self.sha, &entry.path);
        let endpoint = client.endpoint_str();
        match files::fetch(client, url, entry, plan, config.max_file_size) {
            Ok(Fetched::Blob { data, extract }) => {
                let location = HubLocation::file(
                    endpoint,
                    self.repo,
                    self.requested,
                    self.sha,
                    &entry.path,
                    extract,
                );
                self.files.fetch_add(1, Ordering::Relaxed);
                self.sweep.sink.blob(Blob {
                    data,
                    provenance: Provenance::Hub(Box::new(location)),
                });
            }
            Ok(Fetched::Skipped(reason)) => self.sweep.sink.skip(reason),
            Err(FileError::Hub(err)) if err.denial().is_some() => self.deny(err),
            Err(err) => {
                let location = HubLocation::file(
                    endpoint,
                    self.repo,
                    self.requested,
                    self.sha,
                    &entry.path,
                    None,
                );
                self.error(location.display(), &err.to_string());
            }
        }
    }

    fn scan_discussions(&self) {
        let client = self.sweep.client;
        for page in DiscussionPages::new(client, self.repo) {
            match page {
                Ok(summaries) => summaries
                    .par_iter()
                    .for_each(|summary| self.scan_discussion(summary.num)),
                // Discussions turned off for the repo: nothing to scan.
                Err(err) if matches!(err.status(), Some(403 | 404)) && mentions_disabled(&err) => {
                    return;
                }
                Err(err) => {
                    let path = format!("{}/discussions", self.repo.display());
                    return self.error(&path, &format!("listing discussions failed: {err}"));
                }
            }
        }
    }

    fn scan_discussion(&self, num: u64) {
        let client = self.sweep.client;
        match api::discussion(client, self.repo, num) {
            Ok(detail) => {
                self.discussions.fetch_add(1, Ordering::Relaxed);
                for blob in discussions::blobs(client.endpoint_str(), self.repo, &detail) {
                    self.sweep.sink.blob(blob);
                }
            }
            Err(err) => {
                let path = format!("{}/discussions/{num}", self.repo.display());
                self.error(&path, &err.to_string());
            }
        }
    }

    fn scan_history(&self, scanner: HistoryScanner) {
        let config = self.sweep.config;
        let endpoint = self.sweep.client.endpoint_str();
        let token = config.client.token.clone();
        if let Err(err) = history::scan(endpoint, self.repo, token, scanner, self.sweep.sink) {
            self.error(&self.repo.display(), &err.to_string());
        }
    }

    fn deny(&self, err: HubError) {
        let _ = self.denied.set(err);
    }

    fn error(&self, path: &str, message: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.sweep.sink.error(path, message);
    }

    fn outcome(self) -> Outcome {
        match self.denied.into_inner() {
            Some(err) => Outcome::from_repo_error(err),
            None => Outcome::Scanned {
                sha: self.sha.to_string(),
                files: self.files.into_inner(),
                discussions: self.discussions.into_inner(),
                errors: self.errors.into_inner(),
            },
        }
    }
}

fn mentions_disabled(err: &HubError) -> bool {
    matches!(err, HubError::Status { message: Some(m), .. } if m.to_ascii_lowercase().contains("disabled"))
}
