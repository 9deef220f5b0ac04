//! False-positive filters: what a regex accepts but no real secret looks like.
//!
//! These run after the regex and entropy checks, on the secret and its line. Each test is cheap
//! and aimed at a family of decoys that real code is full of: placeholders (`EXAMPLE`, `xxxx`,
//! `<your-key>`), template references (`${VAR}`, `{{ secrets.X }}`, `os.environ[...]`), runs
//! of one character or of a sequence, and the example keys that providers publish in their
//! documentation.

use std::collections::HashSet;

/// Words that mark a value as a stand-in. Matched case-insensitively inside the secret. Each is
/// long or odd enough that a random token contains it with negligible probability.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "example",
    "password",
    "passw0rd",
    "xxxx",
    "placeholder",
    "your_",
    "your-",
    "yourapi",
    "yourkey",
    "yoursecret",
    "yourtoken",
    "changeme",
    "change_me",
    "dummy",
    "redacted",
    "insert_",
    "replace_",
    "replaceme",
    "fake",
    "notreal",
    "not_real",
    "****",
    "....",
    "<your",
];

/// Template and environment references: the value is looked up elsewhere, not written here.
const TEMPLATE_MARKERS: &[&str] = &[
    "${",
    "{{",
    "}}",
    "<%",
    "%>",
    "$(",
    "os.environ",
    "getenv",
    "process.env",
    "env(",
];

/// Example keys published in providers' documentation. They are structurally valid, so only
/// an exact list catches them.
const DOCUMENTED_EXAMPLES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
    "pk_test_TYooMQauvdEDq54NiTphI7jx",
    "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
];

/// Secrets longer than this are structured blobs (private keys, JWTs), where long runs of one
/// character are normal (DER zero bytes encode as `AAAA`).
const SHORT_SECRET: usize = 100;
/// The run of one repeated or consecutive character that marks a made-up value.
const SUSPICIOUS_RUN: usize = 6;

/// The configurable part of the filters: extra stopwords on top of the built-in lists.
#[derive(Clone, Debug)]
pub struct Filters {
    stopwords: HashSet<Vec<u8>>,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            stopwords: DOCUMENTED_EXAMPLES
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
        }
    }
}

impl Filters {
    /// Adds exact secret values that are never reported.
    pub fn add_stopwords<I: IntoIterator<Item = String>>(&mut self, words: I) {
        self.stopwords
            .extend(words.into_iter().map(String::into_bytes));
    }

    /// Whether `secret`, found on `line`, is a decoy rather than a credential.
    pub fn is_false_positive(&self, secret: &[u8], line: &[u8]) -> bool {
        self.stopwords.contains(secret)
            || has_marker(secret, PLACEHOLDER_MARKERS)
            || has_marker(secret, TEMPLATE_MARKERS)
            || is_angle_bracket_placeholder(secret, line)
            || (secret.len() <= SHORT_SECRET && has_suspicious_run(secret))
    }
}

fn has_marker(secret: &[u8], markers: &[&str]) -> bool {
    markers.iter().any(|marker| {
        let marker = marker.as_bytes();
        secret
            .windows(marker.len())
            .any(|w| w.eq_ignore_ascii_case(marker))
    })
}

/// `<API_KEY>`, `<token>`: a value written between angle brackets is a fill-in-the-blank.
fn is_angle_bracket_placeholder(secret: &[u8], line: &[u8]) -> bool {
    if secret.first() == Some(&b'<') || secret.last() == Some(&b'>') {
        return true;
    }
    // The secret sits inside `<...>` on its line.
    let Some(pos) = find(line, secret) else {
        return false;
    };
    let before = &line[..pos];
    let after = &line[pos + secret.len()..];
    before.last() == Some(&b'<') && after.first() == Some(&b'>')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// Six or more of one character (`aaaaaa`, `000000`) or of a sequence (`abcdef`, `123456`).
fn has_suspicious_run(secret: &[u8]) -> bool {
    let mut same = 1;
    let mut ascending = 1;
    for pair in secret.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        same = if a == b { same + 1 } else { 1 };
        ascending = if a.is_ascii_alphanumeric() && b == a.wrapping_add(1) {
            ascending + 1
        } else {
            1
        };
        if same >= SUSPICIOUS_RUN || ascending >= SUSPICIOUS_RUN {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(secret: &str) -> bool {
        Filters::default().is_false_positive(secret.as_bytes(), secret.as_bytes())
    }

    #[test]
    fn placeholders_are_filtered() {
        assert!(fp("AKIAIOSFODNN7EXAMPLE"));
        assert!(fp("hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
        assert!(fp("<your-api-key>"));
        assert!(fp("${OPENAI_API_KEY}"));
        assert!(fp("{{ secrets.TOKEN }}"));
        assert!(fp("sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(fp("ghp_abcdefghijklmnop"));
        assert!(fp("sk_test_4eC39HqLyjWDarjtT1zdp7dc"));
    }

    #[test]
    fn random_tokens_pass() {
        assert!(!fp("hf_QmZ8rT2zLp4Xv9NbK3mYdWc7Hs6Fj1Ag5R"));
        assert!(!fp("AKIAZ5QW3RTY7UIOPLKJ"));
    }

    #[test]
    fn angle_brackets_on_the_line() {
        let f = Filters::default();
        assert!(f.is_false_positive(b"abcQ7e9", b"token: <abcQ7e9>"));
        assert!(!f.is_false_positive(b"abcQ7e9", b"token: abcQ7e9"));
    }

    #[test]
    fn long_structured_secrets_may_repeat() {
        let pem = format!("-----BEGIN PRIVATE KEY-----{}", "A".repeat(200));
        assert!(!Filters::default().is_false_positive(pem.as_bytes(), b""));
    }

    #[test]
    fn user_stopwords() {
        let mut f = Filters::default();
        f.add_stopwords(["hf_QmZ8rT2zLp4Xv9NbK3mYdWc7Hs6Fj1Ag5R".to_string()]);
        assert!(f.is_false_positive(b"hf_QmZ8rT2zLp4Xv9NbK3mYdWc7Hs6Fj1Ag5R", b""));
    }
}
