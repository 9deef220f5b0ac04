//! Python pickles (and the legacy PyTorch format, several pickles back to back): the string
//! and bytes constants, found by walking the opcode stream. Nothing is unpickled or executed:
//! the walk only needs each opcode's argument length (CPython `Lib/pickletools.py`), so a
//! `GLOBAL`/`REDUCE` payload is just bytes here. Each string of at least
//! [`Limits::min_string_len`](super::Limits) bytes is one derived blob, `pickle string at
//! offset N` (the offset of its opcode).
//!
//! Protocols 0–5 are covered, `FRAME` included (frames only group opcodes, so the walk reads
//! through them, checking that each frame fits). A length beyond the end of the data is an
//! error before any allocation.

use super::{bytes::ByteReader, detect, Derived, Emit, ExtractError, Format};
use crate::source::SkipReason;

/// File extensions under which a pickle is looked for (PyTorch saves `.pt`, `.pth`, `.bin`,
/// `.ckpt`; joblib and plain pickles use the rest).
const EXTENSIONS: &[&str] = &["pkl", "pickle", "pck", "pt", "pth", "bin", "ckpt", "joblib"];

/// A pickle of protocol 2 or later starts with `PROTO n`; earlier ones have no header, so they
/// are recognised by extension only.
pub fn sniff(ext: &str, data: &[u8]) -> bool {
    let has_proto = data.len() > 2 && data[0] == 0x80 && (2..=5).contains(&data[1]);
    (has_proto && EXTENSIONS.contains(&ext)) || matches!(ext, "pkl" | "pickle")
}

pub fn extract(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let mut reader = ByteReader::new(data);
    loop {
        walk_one(&mut reader, out)?;
        // The legacy PyTorch format puts several pickles back to back, then raw storage bytes.
        if reader.is_empty() || data[reader.pos()] != 0x80 {
            return Ok(());
        }
    }
}

/// A constant an opcode pushes, with the offset of the opcode.
struct Constant<'a> {
    offset: usize,
    kind: Kind,
    raw: &'a [u8],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Already UTF-8 (or meant to be).
    Utf8,
    /// Bytes (`BINBYTES`, `BINSTRING`): scanned if they look like text or a container.
    Bytes,
    /// A `STRING` argument: a quoted Python literal with escapes.
    Quoted,
    /// A `UNICODE` argument: raw-unicode-escape (`\uXXXX`).
    RawUnicode,
}

/// Walks one pickle up to its `STOP`.
fn walk_one(reader: &mut ByteReader<'_>, out: &mut dyn Emit) -> Result<(), ExtractError> {
    loop {
        let offset = reader.pos();
        let opcode = reader.u8("pickle opcode")?;
        if opcode == b'.' {
            return Ok(());
        }
        if let Some(constant) = argument(reader, opcode, offset)? {
            emit_constant(constant, out)?;
        }
    }
}

/// Reads an opcode's argument; returns the constant it holds, if any.
fn argument<'a>(
    reader: &mut ByteReader<'a>,
    opcode: u8,
    offset: usize,
) -> Result<Option<Constant<'a>>, ExtractError> {
    let constant = |kind, raw| Ok(Some(Constant { offset, kind, raw }));
    match opcode {
        // No argument.
        b'('
        | b'0'
        | b'1'
        | b'2'
        | b'N'
        | b'Q'
        | b'R'
        | b'a'
        | b'b'
        | b'd'
        | b'}'
        | b'e'
        | b'l'
        | b']'
        | b'o'
        | b's'
        | b't'
        | b')'
        | b'u'
        | 0x81
        | 0x85..=0x89
        | 0x8f..=0x94
        | 0x97
        | 0x98 => Ok(None),
        // Fixed-size arguments.
        b'K' | b'h' | b'q' | 0x80 | 0x82 => reader.skip(1, "pickle argument").map(|_| None),
        b'M' | 0x83 => reader.skip(2, "pickle argument").map(|_| None),
        b'J' | b'j' | b'r' | 0x84 => reader.skip(4, "pickle argument").map(|_| None),
        b'G' => reader.skip(8, "pickle argument").map(|_| None),
        0x95 => frame(reader).map(|_| None),
        // Newline-terminated numbers, memo keys, persistent ids and globals.
        b'F' | b'I' | b'L' | b'g' | b'p' | b'P' => reader.line("pickle argument").map(|_| None),
        b'c' | b'i' => {
            reader.line("pickle GLOBAL module")?;
            reader.line("pickle GLOBAL name").map(|_| None)
        }
        // Length-prefixed integers.
        0x8a => {
            let len = reader.u8("LONG1 length")?;
            reader.skip(len.into(), "LONG1 data").map(|_| None)
        }
        0x8b => {
            let len = reader.u32("LONG4 length")?;
            reader.skip(len.into(), "LONG4 data").map(|_| None)
        }
        // Strings and bytes.
        b'S' => constant(Kind::Quoted, reader.line("STRING argument")?),
        b'V' => constant(Kind::RawUnicode, reader.line("UNICODE argument")?),
        b'X' => {
            let len = reader.u32("BINUNICODE length")?;
            constant(Kind::Utf8, reader.take(len.into(), "BINUNICODE argument")?)
        }
        0x8c => {
            let len = reader.u8("SHORT_BINUNICODE length")?;
            constant(
                Kind::Utf8,
                reader.take(len.into(), "SHORT_BINUNICODE argument")?,
            )
        }
        0x8d => {
            let len = reader.u64("BINUNICODE8 length")?;
            constant(Kind::Utf8, reader.take(len, "BINUNICODE8 argument")?)
        }
        b'T' => {
            let len = reader.u32("BINSTRING length")?;
            // A signed length in the format: negative ones are refused by `take` as absurd.
            constant(Kind::Bytes, reader.take(len.into(), "BINSTRING argument")?)
        }
        b'U' => {
            let len = reader.u8("SHORT_BINSTRING length")?;
            constant(
                Kind::Bytes,
                reader.take(len.into(), "SHORT_BINSTRING argument")?,
            )
        }
        b'B' => {
            let len = reader.u32("BINBYTES length")?;
            constant(Kind::Bytes, reader.take(len.into(), "BINBYTES argument")?)
        }
        b'C' => {
            let len = reader.u8("SHORT_BINBYTES length")?;
            constant(
                Kind::Bytes,
                reader.take(len.into(), "SHORT_BINBYTES argument")?,
            )
        }
        0x8e | 0x96 => {
            let len = reader.u64("BINBYTES8 length")?;
            constant(Kind::Bytes, reader.take(len, "BINBYTES8 argument")?)
        }
        other => Err(ExtractError::malformed(
            format!("unknown pickle opcode 0x{other:02x}"),
            offset,
        )),
    }
}

/// `FRAME n`: the next `n` bytes are opcodes; they must be there.
fn frame(reader: &mut ByteReader<'_>) -> Result<(), ExtractError> {
    let offset = reader.pos();
    let len = reader.u64("FRAME length")?;
    if len > reader.remaining() as u64 {
        return Err(ExtractError::PastEnd {
            what: "FRAME",
            len,
            left: reader.remaining() as u64,
            offset: offset as u64,
        });
    }
    Ok(())
}

fn emit_constant(constant: Constant<'_>, out: &mut dyn Emit) -> Result<(), ExtractError> {
    if constant.raw.len() < out.limits().min_string_len {
        return Ok(());
    }
    // Bytes may be a tensor's raw data: only text and nested containers are worth a blob.
    if constant.kind == Kind::Bytes && detect(None, constant.raw) == Format::Binary {
        return Ok(());
    }
    if constant.raw.len() as u64 > out.room() {
        out.skip(SkipReason::TooLarge);
        return Ok(());
    }
    let data = match constant.kind {
        Kind::Utf8 | Kind::Bytes => constant.raw.to_vec(),
        Kind::Quoted => unquote(constant.raw),
        Kind::RawUnicode => raw_unicode_unescape(constant.raw),
    };
    let detail = format!("pickle string at offset {}", constant.offset);
    out.emit(Derived::part(detail, data))
}

/// A `STRING` argument: `'text'` or `"text"` with Python escapes (`\n`, `\xHH`, `\\`, octal).
fn unquote(raw: &[u8]) -> Vec<u8> {
    let inner = match raw {
        [q1, inner @ .., q2] if q1 == q2 && (*q1 == b'\'' || *q1 == b'"') => inner,
        _ => raw,
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        if inner[i] != b'\\' || i + 1 == inner.len() {
            out.push(inner[i]);
            i += 1;
            continue;
        }
        let (byte, used) = match inner[i + 1] {
            b'n' => (b'\n', 2),
            b'r' => (b'\r', 2),
            b't' => (b'\t', 2),
            b'\\' | b'\'' | b'"' => (inner[i + 1], 2),
            b'x' => match inner.get(i + 2..i + 4).and_then(hex_byte) {
                Some(byte) => (byte, 4),
                None => (b'\\', 1),
            },
            b'0'..=b'7' => octal(&inner[i + 1..]),
            _ => (b'\\', 1),
        };
        out.push(byte);
        i += used;
    }
    out
}

/// Up to three octal digits after a backslash: the byte and the bytes used (backslash included).
fn octal(digits: &[u8]) -> (u8, usize) {
    let count = digits
        .iter()
        .take(3)
        .take_while(|d| (b'0'..=b'7').contains(d))
        .count();
    let value = digits[..count]
        .iter()
        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
    ((value & 0xff) as u8, count + 1)
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(pair).ok()?;
    u8::from_str_radix(text, 16).ok()
}

/// raw-unicode-escape: bytes are Latin-1 characters, except `\uXXXX` and `\UXXXXXXXX`.
fn raw_unicode_unescape(raw: &[u8]) -> Vec<u8> {
    let mut text = String::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escape = match raw.get(i..i + 2) {
            Some(b"\\u") => Some(4),
            Some(b"\\U") => Some(8),
            _ => None,
        };
        let decoded = escape.and_then(|digits| {
            let hex = std::str::from_utf8(raw.get(i + 2..i + 2 + digits)?).ok()?;
            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
            Some((c, 2 + digits))
        });
        match decoded {
            Some((c, used)) => {
                text.push(c);
                i += used;
            }
            None => {
                text.push(char::from(raw[i]));
                i += 1;
            }
        }
    }
    text.into_bytes()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::Collect;

    /// A protocol-2 pickle of `{"token": <value>, "n": 1}`, as `torch.save` would frame it.
    pub(crate) fn dict_pickle(value: &str) -> Vec<u8> {
        let mut p = vec![0x80, 2, b'}', b'q', 0, b'('];
        p.push(b'X');
        p.extend_from_slice(&5u32.to_le_bytes());
        p.extend_from_slice(b"token");
        p.push(b'X');
        p.extend_from_slice(&(value.len() as u32).to_le_bytes());
        p.extend_from_slice(value.as_bytes());
        p.extend_from_slice(&[0x8c, 1, b'n', b'K', 1, b'u', b'.']);
        p
    }

    #[test]
    fn finds_strings_with_offsets() {
        let value = "secret-value-1234567890";
        let mut out = Collect::default();
        extract(&dict_pickle(value), &mut out).unwrap();
        // "token" and "n" are shorter than a secret can be.
        assert_eq!(
            out.derived,
            [Derived::part(
                "pickle string at offset 16",
                value.as_bytes().to_vec()
            )]
        );
    }

    #[test]
    fn every_protocol_string_opcode() {
        let mut p = vec![0x80, 4, 0x95];
        let body_start = p.len() + 8;
        p.extend_from_slice(&[0; 8]);
        p.extend_from_slice(b"S'quoted\\x41\\n'\n");
        p.extend_from_slice(b"V\\u00e9unicode-text\n");
        p.extend_from_slice(&[0x8d]);
        p.extend_from_slice(&14u64.to_le_bytes());
        p.extend_from_slice(b"binunicode8-ok");
        p.extend_from_slice(&[b'U', 9]);
        p.extend_from_slice(b"shortbins");
        p.extend_from_slice(&[b'C', 9]);
        p.extend_from_slice(b"shortbyte");
        p.extend_from_slice(b"cos\nsystem\n");
        p.push(b'.');
        let frame_len = (p.len() - body_start) as u64;
        p[3..11].copy_from_slice(&frame_len.to_le_bytes());
        let mut out = Collect::default();
        extract(&p, &mut out).unwrap();
        assert_eq!(
            out.texts(),
            [
                "quotedA\n",
                "éunicode-text",
                "binunicode8-ok",
                "shortbins",
                "shortbyte"
            ]
        );
    }

    #[test]
    fn absurd_lengths_are_errors_not_allocations() {
        let mut p = vec![0x80, 4, 0x8d];
        p.extend_from_slice(&u64::MAX.to_le_bytes());
        p.extend_from_slice(b"tiny");
        let err = extract(&p, &mut Collect::default()).unwrap_err();
        assert!(
            matches!(
                err,
                ExtractError::PastEnd {
                    what: "BINUNICODE8 argument",
                    offset: 11,
                    ..
                }
            ),
            "{err}"
        );
        let mut p = vec![0x80, 4, 0x95];
        p.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(extract(&p, &mut Collect::default()).is_err());
    }

    #[test]
    fn truncated_and_unknown() {
        assert!(extract(&[0x80, 2, b'X', 1], &mut Collect::default()).is_err());
        assert!(extract(&[0x80, 2, 0xff], &mut Collect::default()).is_err());
        assert!(extract(&[0x80, 2], &mut Collect::default()).is_err());
    }

    #[test]
    fn back_to_back_pickles() {
        let mut p = dict_pickle("first-value-abcdefgh");
        p.extend(dict_pickle("second-value-abcdefgh"));
        p.extend_from_slice(b"\x00\x01raw storage bytes");
        let mut out = Collect::default();
        extract(&p, &mut out).unwrap();
        assert_eq!(
            out.texts(),
            ["first-value-abcdefgh", "second-value-abcdefgh"]
        );
    }

    #[test]
    fn sniffing() {
        assert!(sniff("pt", &[0x80, 2, b'}']));
        assert!(!sniff("txt", &[0x80, 2, b'}']));
        assert!(sniff("pkl", b"(dp0\n."));
        assert!(!sniff("bin", b"\x00\x01"));
    }

    #[test]
    fn unescaping() {
        assert_eq!(unquote(b"'a\\'b\\\\c\\101'"), b"a'b\\cA");
        assert_eq!(unquote(b"'x\\"), b"'x\\");
        assert_eq!(
            raw_unicode_unescape(b"\\U0001F600 \\uZZ"),
            "😀 \\uZZ".as_bytes()
        );
    }
}
