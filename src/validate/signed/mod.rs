//! The three validation protocols that need a signature made with the secret itself: AWS
//! (SigV4 on STS GetCallerIdentity), GCP service accounts (an RS256 JWT exchanged for a token)
//! and Azure Storage (a SharedKey-signed container listing).
//!
//! Why pure functions: each protocol is split into "build the signed request" and "read the
//! answer", with the clock passed in. The framework owns the network (https only, allowed hosts,
//! timeouts, retries); this module owns the cryptography, which is then checked offline against
//! published vectors instead of against live services.
//!
//! Use: build a request with [`aws::caller_identity_request`], [`gcp::token_request`] or
//! [`azure::list_containers_request`]; send it over https to the URL's host only (a redirect
//! must not carry these headers elsewhere); hand the status and body to the matching
//! `read_*` function. Where a protocol's answer needs care (AWS `SignatureDoesNotMatch` right
//! after another secret was tried for the same key id, see [`aws::SIGNATURE_MISMATCH`]), the
//! item's documentation says so.
//!
//! Secrets never leave through this module's text: errors and verdict reasons name the field or
//! the provider's error code, never a key, a signature or a token.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod sigv4;

use std::time::{SystemTime, UNIX_EPOCH};

use ring::{digest, hmac};

/// A fully signed HTTP request, ready to send; the framework enforces https/hosts.
///
/// `headers` never contains `Host`: the HTTP client derives it from `url`, and that host is the
/// one the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// What the provider's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedVerdict {
    /// The secret works; the metadata says whose it is (never the secret or a minted token).
    Live(Vec<(String, String)>),
    /// The provider rejected the secret; the reason names its error code.
    Dead(String),
    /// Nothing can be concluded (rate limit, server error, unexpected body); retry later.
    Unknown(String),
}

/// HMAC-SHA256 of `data` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = [0; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Lowercase hex of SHA-256(`data`).
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// A UTC instant split into calendar fields, for the two date formats the protocols sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

impl UtcTime {
    /// Splits `now` (whole seconds; times before 1970 count backwards).
    pub fn from_system_time(now: SystemTime) -> UtcTime {
        UtcTime::from_unix(unix_seconds(now))
    }

    /// Splits seconds since 1970-01-01T00:00:00Z.
    pub fn from_unix(seconds: i64) -> UtcTime {
        let days = seconds.div_euclid(86_400);
        let secs = seconds.rem_euclid(86_400) as u32;
        let (year, month, day) = crate::source::git::civil_from_days(days);
        UtcTime {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// AWS's basic ISO 8601 form, `20150830T123600Z`.
    pub fn amz_date(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// RFC 1123 as HTTP dates use it, `Sun, 30 Aug 2015 12:36:00 GMT`.
    pub fn rfc1123(&self) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = MONTHS[(self.month as usize).clamp(1, 12) - 1];
        format!(
            "{}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
            DAYS[self.weekday as usize % 7],
            self.day,
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }
}

/// Whole seconds since the epoch, negative before it.
pub(crate) fn unix_seconds(now: SystemTime) -> i64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The verdict for a status that says nothing about the secret: rate limits, server errors and
/// anything unmapped are `Unknown`, never `Dead` (TruffleHog folds these wrongly, issue 7).
pub(crate) fn unknown_status(status: u16) -> SignedVerdict {
    SignedVerdict::Unknown(match status {
        429 => "rate limited (HTTP 429)".to_string(),
        500..=599 => format!("provider error (HTTP {status})"),
        _ => format!("unexpected HTTP {status}"),
    })
}

/// The text of the first `<tag>…</tag>` element, without unescaping. Enough for the flat,
/// well-known XML answers of STS and Azure; not a general XML parser.
pub(crate) fn xml_text<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    xml_texts(body, tag).next()
}

/// The texts of every `<tag>…</tag>` element, in order.
pub(crate) fn xml_texts<'a>(body: &'a str, tag: &str) -> impl Iterator<Item = &'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut rest = body;
    std::iter::from_fn(move || {
        let start = rest.find(&open)? + open.len();
        let len = rest[start..].find(&close)?;
        let text = &rest[start..start + len];
        rest = &rest[start + len + close.len()..];
        Some(text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_both_date_forms() {
        let at = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let t = UtcTime::from_system_time(at);
        assert_eq!(t.amz_date(), "20150830T123600Z");
        assert_eq!(t.rfc1123(), "Sun, 30 Aug 2015 12:36:00 GMT");
        assert_eq!(
            UtcTime::from_unix(0).rfc1123(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        // A leap day, and a date before the epoch.
        assert_eq!(
            UtcTime::from_unix(951_782_400).rfc1123(),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(UtcTime::from_unix(-1).amz_date(), "19691231T235959Z");
        assert_eq!(
            UtcTime::from_unix(-1).rfc1123(),
            "Wed, 31 Dec 1969 23:59:59 GMT"
        );
    }

    #[test]
    fn hashes_and_macs_match_known_answers() {
        // SHA-256("") and RFC 4231 test case 2 (key "Jefe").
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn reads_flat_xml() {
        let body = "<R><A>1</A><B></B><A>2</A><C>open";
        assert_eq!(xml_text(body, "A"), Some("1"));
        assert_eq!(xml_text(body, "B"), Some(""));
        assert_eq!(xml_text(body, "C"), None);
        assert_eq!(xml_texts(body, "A").collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn unmapped_statuses_are_unknown() {
        assert_eq!(
            unknown_status(429),
            SignedVerdict::Unknown("rate limited (HTTP 429)".into())
        );
        assert!(matches!(unknown_status(503), SignedVerdict::Unknown(r) if r.contains("503")));
        assert!(matches!(unknown_status(302), SignedVerdict::Unknown(r) if r.contains("302")));
    }
}
