//! Encoded runs in text: base64, base64url, hex and percent-encoding long enough to hold a
//! secret ([`MIN_RUN`] characters) are decoded, and what decodes to text is a derived blob
//! `decoded from base64 at line N`, walked again (so a base64 of a base64 is found, to
//! `--max-decode-depth`).
//!
//! This runs on every text blob, so it must cost next to nothing on plain source code:
//! - finding runs probes one byte per window of [`MIN_RUN`] and looks back only when the probe
//!   is in the alphabet (each byte is looked at about twice at worst, most not at all);
//! - a run is decoded only if its first 64 characters decode to text, so image data, hashes
//!   and long identifiers are rejected after a few dozen bytes;
//! - decoded bytes per blob are capped ([`Limits::max_decoded_bytes`](super::Limits)); past the
//!   cap the rest of the blob is not decoded.

use base64::{
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};

use super::{Derived, Emit, ExtractError};

/// Shortest run worth decoding: 24 base64 characters are 18 bytes, about a short secret.
pub const MIN_RUN: usize = 24;

/// Characters decoded before the full run is: enough to tell text from binary.
const PROBE_CHARS: usize = 64;

/// Bytes that can be part of a run: base64 (standard and URL-safe), hex, percent-encoding.
const fn alphabet_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_' | b'%');
        b += 1;
    }
    table
}

static IN_RUN: [bool; 256] = alphabet_table();

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Base64,
    Base64Url,
    Hex,
    Percent,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent-encoding",
        }
    }
}

pub fn extract(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let mut budget = out.limits().max_decoded_bytes;
    let mut lines = LineCounter::default();
    for (start, end) in runs(data, MIN_RUN) {
        let run = &data[start..end];
        let Some(encoding) = classify(run) else {
            continue;
        };
        if !probe(encoding, run) {
            continue;
        }
        if decoded_size(encoding, run) > budget.min(out.room()) {
            // The cap bounds work and memory; it is not a finding: stop decoding this blob.
            return Ok(());
        }
        let Some(decoded) = decode(encoding, run).filter(|d| looks_like_text(d)) else {
            continue;
        };
        budget -= decoded.len() as u64;
        let line = lines.line_of(data, start);
        let detail = format!("decoded from {} at line {line}", encoding.name());
        out.emit(Derived::part(detail, decoded))?;
    }
    Ok(())
}

/// Byte ranges of runs of at least `min` alphabet bytes, with up to two `=` of padding.
fn runs(data: &[u8], min: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    // Invariant: `start` is 0 or just after a byte outside the alphabet.
    let mut start = 0;
    std::iter::from_fn(move || {
        while start + min <= data.len() {
            let probe = start + min - 1;
            if !IN_RUN[usize::from(data[probe])] {
                start = probe + 1;
                continue;
            }
            if let Some(gap) = (start..probe)
                .rev()
                .find(|&j| !IN_RUN[usize::from(data[j])])
            {
                start = gap + 1;
                continue;
            }
            let mut end = probe + 1;
            while end < data.len() && IN_RUN[usize::from(data[end])] {
                end += 1;
            }
            let run_start = start;
            start = end;
            let padding = data[end..]
                .iter()
                .take(2)
                .take_while(|&&b| b == b'=')
                .count();
            return Some((run_start, end + padding));
        }
        None
    })
}

/// Which encoding a run is in, if any: percent escapes, then hex, then base64.
fn classify(run: &[u8]) -> Option<Encoding> {
    let percent_escapes = run
        .windows(3)
        .filter(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
        .count();
    if percent_escapes >= 2 {
        return Some(Encoding::Percent);
    }
    if run.contains(&b'%') {
        return None;
    }
    if run.len().is_multiple_of(2) && run.iter().all(u8::is_ascii_hexdigit) {
        return Some(Encoding::Hex);
    }
    let url = run.iter().any(|&b| b == b'-' || b == b'_');
    let standard = run.iter().any(|&b| b == b'+' || b == b'/');
    match (url, standard) {
        (true, true) => None,
        (true, false) => Some(Encoding::Base64Url),
        (false, _) => Some(Encoding::Base64),
    }
}

/// Decodes the start of a run and checks it is text.
fn probe(encoding: Encoding, run: &[u8]) -> bool {
    if run.len() <= PROBE_CHARS {
        return true;
    }
    // 64 is a multiple of 2 and 4: no partial hex pair or base64 group. A percent escape cut in
    // two decodes as literal text.
    decode(encoding, &run[..PROBE_CHARS]).is_some_and(|d| looks_like_text(&d))
}

/// At most how many bytes a run decodes to, known before decoding it.
fn decoded_size(encoding: Encoding, run: &[u8]) -> u64 {
    let len = run.len() as u64;
    match encoding {
        Encoding::Base64 | Encoding::Base64Url => len / 4 * 3 + 3,
        Encoding::Hex => len / 2,
        Encoding::Percent => len,
    }
}

fn decode(encoding: Encoding, run: &[u8]) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Base64 => base64_decode(&alphabet::STANDARD, run),
        Encoding::Base64Url => base64_decode(&alphabet::URL_SAFE, run),
        Encoding::Hex => hex_decode(run),
        Encoding::Percent => Some(percent_decode(run)),
    }
}

fn base64_decode(alphabet: &alphabet::Alphabet, run: &[u8]) -> Option<Vec<u8>> {
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let engine = GeneralPurpose::new(alphabet, config);
    let body = trim_padding(run);
    // A dangling sixth of a byte (length 4n+1) cannot be decoded; drop it.
    let body = if body.len() % 4 == 1 {
        &body[..body.len() - 1]
    } else {
        body
    };
    engine.decode(body).ok()
}

fn trim_padding(run: &[u8]) -> &[u8] {
    let end = run.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    &run[..end]
}

fn hex_decode(run: &[u8]) -> Option<Vec<u8>> {
    run.chunks_exact(2)
        .map(|pair| Some(hex_value(pair[0])? << 4 | hex_value(pair[1])?))
        .collect()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|d| d as u8)
}

fn percent_decode(run: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    while i < run.len() {
        let escape = (run[i] == b'%')
            .then(|| Some(hex_value(*run.get(i + 1)?)? << 4 | hex_value(*run.get(i + 2)?)?))
            .flatten();
        match escape {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(run[i]);
                i += 1;
            }
        }
    }
    out
}

/// UTF-8 (a character cut at the end is fine) with no control characters but whitespace, and
/// mostly ASCII: random bytes almost never pass.
fn looks_like_text(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) if err.error_len().is_none() => {
            // Checked just above: this prefix is valid UTF-8.
            std::str::from_utf8(&bytes[..err.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    let ascii = valid.bytes().filter(u8::is_ascii).count();
    !valid.is_empty()
        && ascii * 10 >= valid.len() * 8
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
}

/// 1-based line numbers of increasing offsets, counted incrementally.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: usize,
}

impl LineCounter {
    fn line_of(&mut self, data: &[u8], offset: usize) -> usize {
        self.line += memchr::memchr_iter(b'\n', &data[self.offset..offset]).count();
        self.offset = offset;
        self.line + 1
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    use super::*;
    use crate::extract::Collect;

    fn decoded(text: &str) -> Vec<String> {
        let mut out = Collect::default();
        extract(text.as_bytes(), &mut out).unwrap();
        out.derived
            .iter()
            .map(|d| {
                let crate::source::Inner::Part(detail) = &d.inner else {
                    panic!("not a part")
                };
                format!("{detail}: {}", String::from_utf8_lossy(&d.data))
            })
            .collect()
    }

    #[test]
    fn base64_hex_percent() {
        let config = "api_key: hunter2-but-longer\n";
        let text = format!(
            "a: 1\nb: {}\nc: {}\nd: {}\ne: {}\n",
            STANDARD.encode(config),
            URL_SAFE_NO_PAD.encode("url?safe>>encoded text here"),
            config
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            "%7B%22api_key%22%3A%22value%22%7D"
        );
        assert_eq!(
            decoded(&text),
            [
                format!("decoded from base64 at line 2: {config}"),
                "decoded from base64url at line 3: url?safe>>encoded text here".to_string(),
                format!("decoded from hex at line 4: {config}"),
                "decoded from percent-encoding at line 5: {\"api_key\":\"value\"}".to_string(),
            ]
        );
    }

    #[test]
    fn plain_code_decodes_nothing() {
        let code = "fn scan_blob(&self, scanner: &Scanner) {}\n\
                    let ThisIsAVeryLongIdentifierName = src/extract/encoded/some/path;\n\
                    sha256 = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
                    png = iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\n";
        assert_eq!(decoded(code), Vec::<String>::new());
    }

    #[test]
    fn runs_are_found_exactly() {
        let data = b"x aaaaaaaaaaaaaaaaaaaaaaaaa== y bbbb, cccccccccccccccccccccccc";
        assert_eq!(runs(data, 24).collect::<Vec<_>>(), [(2, 29), (38, 62)]);
        assert_eq!(runs(b"short", 24).count(), 0);
    }

    #[test]
    fn decoded_bytes_are_capped() {
        let line = STANDARD.encode("a secret config value that is long enough");
        let text = format!("{line}\n").repeat(100);
        let mut out = Collect::default();
        out.limits.max_decoded_bytes = 200;
        extract(text.as_bytes(), &mut out).unwrap();
        assert_eq!(out.derived.len(), 4);
    }
}
