//! Sources: where blobs come from, and the provenance that travels with each.
//!
//! A source turns something the user named (a directory, a file, standard input) into blobs of
//! bytes, each with a [`Provenance`] that says where it was found. Everything after this stage
//! is source-agnostic.

pub mod fs;
pub mod git;
pub mod hub;

use std::fmt;

/// Where a blob was found.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provenance {
    /// A file on disk, by the path the user can open (relative if the root was relative).
    File { path: String },
    /// Standard input (`leakhound scan -`).
    Stdin,
    /// A blob in a git repository's history, at the path and commit where it first appeared.
    Git(Box<GitLocation>),
    /// A file or discussion on the Hugging Face Hub (boxed: it is the largest variant).
    Hub(Box<hub::HubLocation>),
    /// Content an extractor pulled out of another blob (see `crate::extract`): an archive
    /// member, a notebook cell, a model-file string, a decoded base64 run.
    Extracted {
        parent: Box<Provenance>,
        inner: Inner,
        /// The display path, computed once: `parent!member` for members, else the parent's.
        path: String,
    },
}

/// Where a git blob was found. The commit details and branch presence are filled in after the
/// scan, and only for blobs with findings, so clean history costs nothing extra.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GitLocation {
    /// The repository as the user named it.
    pub repository: String,
    pub blob_id: String,
    /// Path of the blob in the commit that introduced it.
    pub path: String,
    /// Index of that commit in the scan's commit list (internal).
    pub commit_index: usize,
    /// The first commit (in topological order) whose tree contains the blob.
    pub commit: Option<CommitInfo>,
    /// Local branches whose head still contains the blob. Empty: deleted from every branch.
    pub present_in: Vec<String>,
}

/// Who committed what, when.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommitInfo {
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    /// RFC 3339 with the author's offset.
    pub author_date: String,
    pub committer_date: String,
    pub summary: String,
}

/// Where derived content sits inside its parent blob.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Inner {
    /// A named member of a container (archive entry, PyTorch `archive/data.pkl`); it shows in
    /// the path: `release.zip!config/.env`.
    Member(String),
    /// A part with no file name of its own (`cell 3`, `pickle string at offset 1234`,
    /// `decoded from base64 at line 7`); it shows in the location, not the path.
    Part(String),
}

impl Provenance {
    /// The path shown in reports: the file path, `<stdin>`, or `outer!member` for extracted
    /// content.
    pub fn path(&self) -> &str {
        match self {
            Provenance::File { path } => path,
            Provenance::Stdin => "<stdin>",
            Provenance::Git(git) => &git.path,
            Provenance::Hub(location) => location.display(),
            Provenance::Extracted { path, .. } => path,
        }
    }

    /// The Hub location of this content (or of the file it was extracted from), for reports
    /// that show its extra fields.
    pub fn hub(&self) -> Option<&hub::HubLocation> {
        match self.root() {
            Provenance::Hub(location) => Some(location),
            _ => None,
        }
    }

    /// The kind of source, as written in JSON reports (for extracted content, its root's).
    pub fn kind(&self) -> &'static str {
        match self {
            Provenance::File { .. } => "file",
            Provenance::Stdin => "stdin",
            Provenance::Git(_) => "git",
            Provenance::Hub(_) => "hub",
            Provenance::Extracted { parent, .. } => parent.kind(),
        }
    }

    /// Provenance for content extracted from `parent`.
    pub fn extracted(parent: &Provenance, inner: Inner) -> Provenance {
        let path = match &inner {
            Inner::Member(name) => format!("{}!{name}", parent.path()),
            Inner::Part(_) => parent.path().to_string(),
        };
        Provenance::Extracted {
            parent: Box::new(parent.clone()),
            inner,
            path,
        }
    }

    /// The outermost provenance: the file, blob or stream the user named.
    pub fn root(&self) -> &Provenance {
        match self {
            Provenance::Extracted { parent, .. } => parent.root(),
            other => other,
        }
    }

    /// The git location of this content or of the blob it was extracted from.
    pub fn git(&self) -> Option<&GitLocation> {
        match self.root() {
            Provenance::Git(git) => Some(git),
            _ => None,
        }
    }

    /// Mutable access to the git location, for filling in provenance after a scan.
    pub fn git_mut(&mut self) -> Option<&mut GitLocation> {
        match self {
            Provenance::Git(git) => Some(git),
            Provenance::Extracted { parent, .. } => parent.git_mut(),
            _ => None,
        }
    }

    /// The parts (cells, offsets, decodings) between the path and the content, outermost
    /// first, joined by `; `; `None` for content that is a whole file or member.
    pub fn within(&self) -> Option<String> {
        let mut parts = Vec::new();
        let mut current = self;
        while let Provenance::Extracted { parent, inner, .. } = current {
            if let Inner::Part(part) = inner {
                parts.push(part.as_str());
            }
            current = parent;
        }
        parts.reverse();
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// Bytes to scan, with where they came from.
#[derive(Clone, Debug)]
pub struct Blob {
    pub data: Vec<u8>,
    pub provenance: Provenance,
}

/// Where a source that fetches its own blobs (the Hub) pushes them, from any number of
/// threads. The scan pipeline implements it (`pipeline::scan_pushed`).
pub trait BlobSink: Sync {
    /// Scans a blob.
    fn blob(&self, blob: Blob);
    /// Counts an input that was not scanned.
    fn skip(&self, reason: SkipReason);
    /// Records an input that could not be scanned; `path` as the user should see it.
    fn error(&self, path: &str, message: &str);
    /// A progress line for stderr.
    fn note(&self, line: &str);
}

/// Why an input was not scanned. Skips are counted in the summary, never silent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// Contains NUL bytes in its first 8 KiB.
    Binary,
    /// Larger than `--max-file-size`.
    TooLarge,
    /// A symbolic link, not followed without `--follow-symlinks`.
    Symlink,
    /// Not a regular file (socket, FIFO, device), or a submodule entry in a git tree.
    Special,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too_large",
            SkipReason::Symlink => "symlink",
            SkipReason::Special => "special",
        }
    }
}

/// Percent-encodes a path for use in a URI, keeping unreserved characters and `/` (SARIF
/// artifact URIs, Hub web links).
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How many leading bytes are inspected to call a blob binary, as git and ripgrep do.
pub const BINARY_SNIFF_LEN: usize = 8192;

/// A blob is binary when a NUL byte appears in its first 8 KiB (git's heuristic).
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF_LEN)]).is_some()
}
