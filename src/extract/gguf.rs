//! GGUF (llama.cpp model files, v1–v3, either byte order): the metadata key/value pairs. Each
//! string value is a derived blob `GGUF key <key>`; a string array is one blob with an element
//! per line. Tokenizer vocabularies (`tokenizer.ggml.tokens`, `merges`, and any string array
//! over [`MAX_SCANNED_ARRAY`] elements) are walked over, not scanned: they are huge and hold
//! token pieces, not secrets. `tokenizer.chat_template` and free-form fields are scanned.
//!
//! Layout (ggml `docs/gguf.md`): magic `GGUF`, u32 version, u64 tensor count, u64 pair count
//! (u32 for both, and for string and array lengths, in v1), then `key, u32 type, value` pairs.
//! A big-endian file is told by the version: read as little-endian, its low 16 bits are zero.
//! Tensor infos and data follow the pairs and are not read.

use super::{bytes::ByteReader, Derived, Emit, ExtractError};
use crate::source::SkipReason;

/// String arrays longer than this are vocabularies, not metadata.
pub const MAX_SCANNED_ARRAY: u64 = 65_536;

/// Keys are at most this long (the spec's limit).
const MAX_KEY_LEN: u64 = 65_535;

/// Arrays of arrays deeper than this are refused.
const MAX_ARRAY_NESTING: usize = 4;

const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;

/// `GGUF` and a version from 1 to 3 in either byte order: a text file that starts with the
/// word is not taken for a model.
pub fn sniff(data: &[u8]) -> bool {
    let Some(version) = data.get(4..8) else {
        return false;
    };
    let version: [u8; 4] = version.try_into().unwrap_or_default();
    data.starts_with(b"GGUF")
        && ((1..=3).contains(&u32::from_le_bytes(version))
            || (1..=3).contains(&u32::from_be_bytes(version)))
}

pub fn extract(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let mut reader = ByteReader::new(data);
    let header = read_header(&mut reader)?;
    for _ in 0..header.pairs {
        read_pair(&mut reader, &header, out)?;
    }
    Ok(())
}

struct Header {
    /// v1 uses u32 for lengths and counts.
    wide: bool,
    pairs: u64,
}

fn read_header(reader: &mut ByteReader<'_>) -> Result<Header, ExtractError> {
    let magic = reader.take(4, "GGUF magic")?;
    if magic != b"GGUF" {
        return Err(ExtractError::malformed("not a GGUF file", 0));
    }
    let mut version = reader.u32("GGUF version")?;
    if version & 0xffff == 0 {
        reader.set_big_endian(true);
        version = version.swap_bytes();
    }
    if !(1..=3).contains(&version) {
        return Err(ExtractError::malformed(
            format!("unsupported GGUF version {version}"),
            4,
        ));
    }
    let wide = version >= 2;
    let _tensors = read_len(reader, wide, "GGUF tensor count")?;
    let pairs = read_len(reader, wide, "GGUF metadata count")?;
    Ok(Header { wide, pairs })
}

fn read_len(
    reader: &mut ByteReader<'_>,
    wide: bool,
    what: &'static str,
) -> Result<u64, ExtractError> {
    if wide {
        reader.u64(what)
    } else {
        reader.u32(what).map(u64::from)
    }
}

fn read_string<'a>(
    reader: &mut ByteReader<'a>,
    header: &Header,
    what: &'static str,
) -> Result<&'a [u8], ExtractError> {
    let len = read_len(reader, header.wide, what)?;
    reader.take(len, what)
}

fn read_pair(
    reader: &mut ByteReader<'_>,
    header: &Header,
    out: &mut dyn Emit,
) -> Result<(), ExtractError> {
    let offset = reader.pos();
    let key_len = read_len(reader, header.wide, "GGUF key length")?;
    if key_len > MAX_KEY_LEN {
        return Err(ExtractError::Absurd {
            what: "GGUF key length",
            value: key_len,
            limit: MAX_KEY_LEN,
            offset: offset as u64,
        });
    }
    let key = String::from_utf8_lossy(reader.take(key_len, "GGUF key")?).into_owned();
    let value_type = reader.u32("GGUF value type")?;
    match value_type {
        TYPE_STRING => {
            let value = read_string(reader, header, "GGUF string")?;
            emit(out, format!("GGUF key {key}"), value)
        }
        TYPE_ARRAY => {
            let mut lines = Lines::new(scan_array(&key));
            read_array(reader, header, &mut lines, 0)?;
            let detail = format!("GGUF key {key}, one element per line");
            match lines.text {
                Some(text) if !text.is_empty() => emit(out, detail, &text),
                _ => Ok(()),
            }
        }
        scalar => reader.skip(scalar_size(scalar, reader.pos())?, "GGUF value"),
    }
}

/// Whether a string array under this key is worth scanning.
fn scan_array(key: &str) -> bool {
    !(key.starts_with("tokenizer.ggml.") && (key.ends_with("tokens") || key.ends_with("merges")))
}

/// The strings of an array, joined by newlines; `None` once the array is judged a vocabulary.
struct Lines {
    text: Option<Vec<u8>>,
}

impl Lines {
    fn new(scan: bool) -> Self {
        Lines {
            text: scan.then(Vec::new),
        }
    }

    fn push(&mut self, element: &[u8]) {
        if let Some(text) = &mut self.text {
            if !text.is_empty() {
                text.push(b'\n');
            }
            text.extend_from_slice(element);
        }
    }
}

fn read_array(
    reader: &mut ByteReader<'_>,
    header: &Header,
    lines: &mut Lines,
    nesting: usize,
) -> Result<(), ExtractError> {
    let offset = reader.pos();
    if nesting >= MAX_ARRAY_NESTING {
        return Err(ExtractError::malformed(
            "GGUF arrays nested too deep",
            offset,
        ));
    }
    let element_type = reader.u32("GGUF array type")?;
    let count = read_len(reader, header.wide, "GGUF array length")?;
    match element_type {
        TYPE_STRING => {
            if count > MAX_SCANNED_ARRAY {
                lines.text = None;
            }
            for _ in 0..count {
                lines.push(read_string(reader, header, "GGUF string")?);
            }
            Ok(())
        }
        TYPE_ARRAY => (0..count).try_for_each(|_| read_array(reader, header, lines, nesting + 1)),
        scalar => {
            let size = scalar_size(scalar, offset)?;
            let total = count.checked_mul(size).ok_or(ExtractError::Absurd {
                what: "GGUF array length",
                value: count,
                limit: reader.remaining() as u64,
                offset: offset as u64,
            })?;
            reader.skip(total, "GGUF array")
        }
    }
}

/// Byte size of a scalar value type.
fn scalar_size(value_type: u32, offset: usize) -> Result<u64, ExtractError> {
    match value_type {
        0 | 1 | 7 => Ok(1),
        2 | 3 => Ok(2),
        4..=6 => Ok(4),
        10..=12 => Ok(8),
        other => Err(ExtractError::malformed(
            format!("unknown GGUF value type {other}"),
            offset,
        )),
    }
}

fn emit(out: &mut dyn Emit, detail: String, value: &[u8]) -> Result<(), ExtractError> {
    if value.len() < out.limits().min_string_len {
        return Ok(());
    }
    if value.len() as u64 > out.room() {
        out.skip(SkipReason::TooLarge);
        return Ok(());
    }
    out.emit(Derived::part(detail, value.to_vec()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::Collect;

    /// A GGUF v3 file writer for tests: `string`, `strings` and `u32` pairs.
    pub(crate) struct Gguf {
        pairs: Vec<u8>,
        count: u64,
        big_endian: bool,
    }

    impl Gguf {
        pub(crate) fn new() -> Self {
            Gguf {
                pairs: Vec::new(),
                count: 0,
                big_endian: false,
            }
        }

        fn u32(&self, v: u32) -> [u8; 4] {
            if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }

        fn u64(&self, v: u64) -> [u8; 8] {
            if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }

        fn put_str(&mut self, s: &str) {
            let len = self.u64(s.len() as u64);
            self.pairs.extend_from_slice(&len);
            self.pairs.extend_from_slice(s.as_bytes());
        }

        fn key(&mut self, key: &str, value_type: u32) {
            self.count += 1;
            self.put_str(key);
            let t = self.u32(value_type);
            self.pairs.extend_from_slice(&t);
        }

        pub(crate) fn string(mut self, key: &str, value: &str) -> Self {
            self.key(key, TYPE_STRING);
            self.put_str(value);
            self
        }

        pub(crate) fn strings(mut self, key: &str, values: &[&str]) -> Self {
            self.key(key, TYPE_ARRAY);
            let (t, n) = (self.u32(TYPE_STRING), self.u64(values.len() as u64));
            self.pairs.extend_from_slice(&t);
            self.pairs.extend_from_slice(&n);
            for v in values {
                self.put_str(v);
            }
            self
        }

        pub(crate) fn u32_value(mut self, key: &str, value: u32) -> Self {
            self.key(key, 4);
            let v = self.u32(value);
            self.pairs.extend_from_slice(&v);
            self
        }

        pub(crate) fn build(&self) -> Vec<u8> {
            let mut file = b"GGUF".to_vec();
            file.extend_from_slice(&self.u32(3));
            file.extend_from_slice(&self.u64(0));
            file.extend_from_slice(&self.u64(self.count));
            file.extend_from_slice(&self.pairs);
            file
        }
    }

    fn sample() -> Gguf {
        Gguf::new()
            .string("general.name", "tiny-model")
            .u32_value("general.alignment", 32)
            .strings("tokenizer.ggml.tokens", &["<s>", "</s>", "hello-world"])
            .string(
                "tokenizer.chat_template",
                "{% for m in messages %}{{ m }}{% endfor %}",
            )
            .strings("general.tags", &["text-generation", "example-tag"])
    }

    #[test]
    fn strings_and_arrays_but_not_vocabularies() {
        let mut out = Collect::default();
        extract(&sample().build(), &mut out).unwrap();
        let details: Vec<_> = out.derived.iter().map(|d| d.inner.clone()).collect();
        assert_eq!(out.texts().len(), 3, "{details:?}");
        assert_eq!(out.texts()[0], "tiny-model");
        assert!(out.texts()[1].starts_with("{% for"));
        assert_eq!(out.texts()[2], "text-generation\nexample-tag");
        assert_eq!(
            out.derived[0].inner,
            crate::source::Inner::Part("GGUF key general.name".into())
        );
    }

    #[test]
    fn big_endian_files() {
        let mut gguf = Gguf::new();
        gguf.big_endian = true;
        let gguf = gguf.string("general.description", "a big-endian model");
        let mut out = Collect::default();
        extract(&gguf.build(), &mut out).unwrap();
        assert_eq!(out.texts(), ["a big-endian model"]);
    }

    #[test]
    fn sniffing() {
        assert!(sniff(&sample().build()));
        assert!(sniff(b"GGUF\0\0\0\x03"));
        assert!(!sniff(b"GGUF is a file format"));
        assert!(!sniff(b"GGUF"));
    }

    #[test]
    fn truncated_and_absurd() {
        let file = sample().build();
        for cut in [3, 10, 30, file.len() - 1] {
            assert!(
                extract(&file[..cut], &mut Collect::default()).is_err(),
                "cut at {cut}"
            );
        }
        let mut file = b"GGUF".to_vec();
        file.extend_from_slice(&3u32.to_le_bytes());
        file.extend_from_slice(&0u64.to_le_bytes());
        file.extend_from_slice(&1u64.to_le_bytes());
        file.extend_from_slice(&4u64.to_le_bytes());
        file.extend_from_slice(b"keyy");
        file.extend_from_slice(&TYPE_STRING.to_le_bytes());
        file.extend_from_slice(&u64::MAX.to_le_bytes());
        let err = extract(&file, &mut Collect::default()).unwrap_err();
        assert!(matches!(err, ExtractError::PastEnd { .. }), "{err}");
    }
}
