//! Baselines: "everything found today is known; report only what is new".
//!
//! `--write-baseline FILE` records each finding location as (rule, path, keyed hash of the
//! secret); `--baseline FILE` drops findings whose (rule, path, hash) is recorded. The line is
//! kept for readers but never compared, so findings survive line moves and reformatting. The
//! secret is stored only as HMAC-SHA256 under a random per-file salt: a baseline can be
//! committed without giving away what it lists, and hashes from two baselines cannot be
//! compared with each other or with a precomputed table.

use std::{collections::HashSet, fmt::Write as _, fs, path::Path};

use ring::{hmac, rand::SecureRandom};
use serde::{Deserialize, Serialize};

/// The `leakhound_baseline` version this build reads and writes.
const BASELINE_VERSION: u32 = 1;
const SALT_BYTES: usize = 16;

/// A baseline file as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    leakhound_baseline: u32,
    /// Hex salt (the HMAC key).
    salt: String,
    entries: Vec<BaselineEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub rule_id: String,
    /// Path relative to the scanned root (or in the repository, for history).
    pub path: String,
    /// Hex HMAC-SHA256(salt, rule id NUL secret).
    pub secret_hash: String,
    /// Where it was when recorded; informational only.
    #[serde(default)]
    pub line: usize,
}

/// A loaded baseline, ready to be matched against.
#[derive(Debug)]
pub struct Baseline {
    key: hmac::Key,
    salt_hex: String,
    known: HashSet<(String, String, String)>,
    entries: Vec<BaselineEntry>,
}

impl Baseline {
    /// An empty baseline with a fresh random salt, to record findings into.
    pub fn new() -> Result<Baseline, String> {
        let mut salt = [0u8; SALT_BYTES];
        ring::rand::SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| "the system random number generator failed".to_string())?;
        Ok(Baseline::with_salt(&salt, Vec::new()))
    }

    fn with_salt(salt: &[u8], entries: Vec<BaselineEntry>) -> Baseline {
        let known = entries
            .iter()
            .map(|e| (e.rule_id.clone(), e.path.clone(), e.secret_hash.clone()))
            .collect();
        Baseline {
            key: hmac::Key::new(hmac::HMAC_SHA256, salt),
            salt_hex: hex(salt),
            known,
            entries,
        }
    }

    /// Reads a baseline file; the error names the file and says what is wrong.
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let name = path.display();
        let text =
            fs::read_to_string(path).map_err(|e| format!("cannot read baseline {name}: {e}"))?;
        let file: BaselineFile = serde_json::from_str(&text)
            .map_err(|e| format!("{name}:{}: not a leakhound baseline: {e}", e.line()))?;
        if file.leakhound_baseline != BASELINE_VERSION {
            return Err(format!(
                "{name}: baseline version {} is not supported (this leakhound reads {BASELINE_VERSION})",
                file.leakhound_baseline
            ));
        }
        let salt = unhex(&file.salt).ok_or_else(|| format!("{name}: `salt` is not hex"))?;
        Ok(Baseline::with_salt(&salt, file.entries))
    }

    /// The keyed hash of a secret as stored in the file.
    pub fn secret_hash(&self, rule_id: &str, secret: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(rule_id.as_bytes());
        ctx.update(&[0]);
        ctx.update(secret.as_bytes());
        hex(ctx.sign().as_ref())
    }

    pub fn contains(&self, rule_id: &str, path: &str, secret_hash: &str) -> bool {
        self.known.contains(&(
            rule_id.to_string(),
            path.to_string(),
            secret_hash.to_string(),
        ))
    }

    /// Records a finding location (once).
    pub fn record(&mut self, rule_id: &str, path: &str, secret: &str, line: usize) {
        let secret_hash = self.secret_hash(rule_id, secret);
        let key = (rule_id.to_string(), path.to_string(), secret_hash.clone());
        if self.known.insert(key) {
            self.entries.push(BaselineEntry {
                rule_id: rule_id.to_string(),
                path: path.to_string(),
                secret_hash,
                line,
            });
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the baseline as pretty JSON, entries sorted so that diffs stay small.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let mut entries = self.entries.clone();
        entries.sort_by(|a, b| {
            (&a.path, a.line, &a.rule_id, &a.secret_hash).cmp(&(
                &b.path,
                b.line,
                &b.rule_id,
                &b.secret_hash,
            ))
        });
        let file = BaselineFile {
            leakhound_baseline: BASELINE_VERSION,
            salt: self.salt_hex.clone(),
            entries,
        };
        let mut text = serde_json::to_string_pretty(&file).expect("baseline serialises");
        text.push('\n');
        fs::write(path, text).map_err(|e| format!("cannot write baseline {}: {e}", path.display()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.is_empty() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_matches_by_rule_path_and_hash_not_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("baseline.json");
        let mut baseline = Baseline::new().unwrap();
        baseline.record("aws-access-key-id", "src/a.py", "AKIAEXAMPLE", 3);
        baseline.record("aws-access-key-id", "src/a.py", "AKIAEXAMPLE", 90);
        assert_eq!(baseline.len(), 1);
        baseline.write(&file).unwrap();

        let text = fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("AKIAEXAMPLE"),
            "secret stored in clear: {text}"
        );

        let loaded = Baseline::load(&file).unwrap();
        let hash = loaded.secret_hash("aws-access-key-id", "AKIAEXAMPLE");
        assert!(loaded.contains("aws-access-key-id", "src/a.py", &hash));
        assert!(!loaded.contains("aws-access-key-id", "src/b.py", &hash));
        let other = loaded.secret_hash("aws-access-key-id", "AKIAOTHER");
        assert!(!loaded.contains("aws-access-key-id", "src/a.py", &other));
    }

    #[test]
    fn salts_differ_so_hashes_differ() {
        let a = Baseline::new().unwrap();
        let b = Baseline::new().unwrap();
        assert_ne!(a.secret_hash("r", "s"), b.secret_hash("r", "s"));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let baseline = Baseline::with_salt(b"Jefe", Vec::new());
        let mut ctx = hmac::Context::with_key(&baseline.key);
        ctx.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(ctx.sign().as_ref()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.json");
        fs::write(
            &file,
            "{\"leakhound_baseline\": 1, \"salt\": \"zz\", \"entries\": []}",
        )
        .unwrap();
        assert!(Baseline::load(&file).unwrap_err().contains("salt"));
        fs::write(&file, "[1, 2]").unwrap();
        assert!(Baseline::load(&file)
            .unwrap_err()
            .contains("not a leakhound baseline"));
        fs::write(
            &file,
            "{\"leakhound_baseline\": 9, \"salt\": \"00\", \"entries\": []}",
        )
        .unwrap();
        assert!(Baseline::load(&file).unwrap_err().contains("version 9"));
        assert!(Baseline::load(&dir.path().join("missing"))
            .unwrap_err()
            .contains("cannot read"));
    }
}
