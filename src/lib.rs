//! leakhound finds leaked secrets and API tokens in files, directories and standard input.
//!
//! The data path (see [`pipeline`]): a source yields blobs with provenance; the [`engine`]
//! finds rule matches in each (keyword prefilter, then regex, then entropy, checksum and
//! false-positive filters); [`finding`] folds matches into findings by secret; [`report`]
//! writes them.
//!
//! ```
//! use leakhound::{engine::Scanner, rules::RuleSet};
//!
//! let rules = RuleSet::builtin().unwrap();
//! let scanner = Scanner::new(&rules);
//! let token = leakhound::engine::checksum::with_crc32_base62_suffix(
//!     "ghp_", "Zq3xL9vB2mN7kR4tY8wE1aS5dF6gH0");
//! let text = format!("GITHUB_TOKEN={token}\n");
//! let matches = scanner.scan(text.as_bytes());
//! assert_eq!(scanner.rule(matches[0].rule).id, "github-personal-access-token");
//! ```

pub mod config;
pub mod engine;
pub mod extract;
pub mod finding;
pub mod gitleaks;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod rules;
pub mod source;
pub mod suppress;
pub mod validate;

/// Files larger than this are skipped (and counted) unless `--max-file-size` says otherwise.
/// Secrets sit in configs and code, rarely in 25 MB data dumps, and this bounds memory per
/// worker.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 25 * 1024 * 1024;
