//! Encoded runs in text: base64, base64url, hex and percent-encoding long enough to hold a
//! secret ([`MIN_RUN`] characters) are decoded, and what decodes to text is a derived blob
//! `decoded from base64 at line N`, walked again (so a base64 of a base64 is found, to
//! `--max-decode-depth`).
//!
//! This runs on every text blob, so it must cost next to nothing on plain source code:
//! - runs are found 64 bytes at a time with bit masks ([`runs`]);
//! - runs without both letter cases are not base64 (an identifier, a path, a `----` line);
//! - a run is decoded only if its first 64 characters decode to text, so image data, hashes
//!   and long identifiers are rejected after a few dozen bytes;
//! - decoded bytes per blob are capped ([`Limits::max_decoded_bytes`](super::Limits)); past the
//!   cap the rest of the blob is not decoded.

use std::ops::ControlFlow;

use base64::{
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};

use super::{runs, Derived, Emit, ExtractError};

/// Shortest run worth decoding: 24 base64 characters are 18 bytes, about a short secret.
pub const MIN_RUN: usize = 24;

/// Characters decoded before the full run is: enough to tell text from binary.
const PROBE_CHARS: usize = 64;

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
    let mut decoder = Decoder {
        budget: out.limits().max_decoded_bytes,
        lines: LineCounter::default(),
        scratch: Vec::new(),
        result: Ok(()),
    };
    runs::for_each_run(data, MIN_RUN, &mut |start, end| {
        decoder.run(data, start, with_padding(data, end), out)
    });
    decoder.result
}

/// Up to two `=` of base64 padding after a run belong to it.
fn with_padding(data: &[u8], end: usize) -> usize {
    end + data[end..]
        .iter()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count()
}

struct Decoder {
    /// Decoded bytes this blob may still produce.
    budget: u64,
    lines: LineCounter,
    /// Decoding buffer, reused: most runs are rejected, and they cost no allocation.
    scratch: Vec<u8>,
    result: Result<(), ExtractError>,
}

impl Decoder {
    /// Decodes one run and emits it if it is text; breaks when the budget or the walk says so.
    fn run(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        out: &mut dyn Emit,
    ) -> ControlFlow<()> {
        let run = &data[start..end];
        let Some(encoding) = classify(run) else {
            return ControlFlow::Continue(());
        };
        // The head first: most runs (identifiers, hashes, image data) fail there, cheaply.
        // 64 is a multiple of 2 and 4: no partial hex pair or base64 group.
        let head = &run[..run.len().min(PROBE_CHARS)];
        if !decode_text(encoding, head, &mut self.scratch) {
            return ControlFlow::Continue(());
        }
        if decoded_size(encoding, run) > self.budget.min(out.room()) {
            // The cap bounds work and memory; it is not a finding: stop decoding this blob.
            return ControlFlow::Break(());
        }
        if run.len() > head.len() && !decode_text(encoding, run, &mut self.scratch) {
            return ControlFlow::Continue(());
        }
        let decoded = self.scratch.clone();
        self.budget -= decoded.len() as u64;
        let line = self.lines.line_of(data, start);
        let detail = format!("decoded from {} at line {line}", encoding.name());
        match out.emit(Derived::part(detail, decoded)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                self.result = Err(err);
                ControlFlow::Break(())
            }
        }
    }
}

/// Which encoding a run is in, if any, from one pass over it: percent escapes, then hex, then
/// base64.
fn classify(run: &[u8]) -> Option<Encoding> {
    let (mut upper, mut lower, mut url, mut standard, mut hex) = (false, false, false, false, true);
    let mut percent_escapes = 0;
    for (i, &b) in run.iter().enumerate() {
        upper |= b.is_ascii_uppercase();
        lower |= b.is_ascii_lowercase();
        url |= b == b'-' || b == b'_';
        standard |= b == b'+' || b == b'/';
        hex &= b.is_ascii_hexdigit();
        if b == b'%' {
            let escape = run.get(i + 1..i + 3);
            percent_escapes += 1;
            if !escape.is_some_and(|e| e.iter().all(u8::is_ascii_hexdigit)) {
                return None;
            }
        }
    }
    if percent_escapes >= 2 {
        return Some(Encoding::Percent);
    }
    if percent_escapes > 0 {
        return None;
    }
    if hex && run.len().is_multiple_of(2) {
        return Some(Encoding::Hex);
    }
    // Base64 output mixes cases: 24 characters without an upper or a lower case letter are
    // almost never base64 (chance about 1e-5), but often an identifier, a path or a `----` line.
    match (upper && lower, url, standard) {
        (false, _, _) | (true, true, true) => None,
        (true, true, false) => Some(Encoding::Base64Url),
        (true, false, _) => Some(Encoding::Base64),
    }
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

/// Decodes `run` into `out` (cleared first) and tells whether the result is text.
fn decode_text(encoding: Encoding, run: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let decoded = match encoding {
        Encoding::Base64 => base64_decode(&BASE64, run, out),
        Encoding::Base64Url => base64_decode(&BASE64_URL, run, out),
        Encoding::Hex => hex_decode(run, out),
        Encoding::Percent => {
            percent_decode(run, out);
            true
        }
    };
    decoded && looks_like_text(out)
}

/// Padding optional, trailing bits tolerated: runs are cut out of text, not produced by an
/// encoder we know.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
static BASE64: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
static BASE64_URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

fn base64_decode(engine: &GeneralPurpose, run: &[u8], out: &mut Vec<u8>) -> bool {
    let body = trim_padding(run);
    // A dangling sixth of a byte (length 4n+1) cannot be decoded; drop it.
    let body = if body.len() % 4 == 1 {
        &body[..body.len() - 1]
    } else {
        body
    };
    engine.decode_vec(body, out).is_ok()
}

fn trim_padding(run: &[u8]) -> &[u8] {
    let end = run.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    &run[..end]
}

fn hex_decode(run: &[u8], out: &mut Vec<u8>) -> bool {
    for pair in run.chunks_exact(2) {
        match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(high), Some(low)) => out.push(high << 4 | low),
            _ => return false,
        }
    }
    true
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|d| d as u8)
}

fn percent_decode(run: &[u8], out: &mut Vec<u8>) {
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
    fn padding_belongs_to_the_run() {
        let data = b"aaaa=== b";
        assert_eq!(with_padding(data, 4), 6);
        assert_eq!(with_padding(data, 9), 9);
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
