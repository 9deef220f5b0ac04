//! ONNX and other protobuf model files (`.onnx`, TensorFlow `.pb`), read without their schema.
//! The wire format is enough: every length-delimited field is either text (kept), a nested
//! message (walked, at most [`MAX_NESTING`] deep), or bytes such as tensor data (ignored). A
//! message of two text fields 1 and 2 is a key/value entry, ONNX's `metadata_props`, and is
//! emitted as `key: value` so assignment-style rules see the key. Each string is a derived blob
//! `protobuf string at offset N`; `doc_string`, `producer_name` and node names come out the same
//! way. A file that does not parse falls back to its printable strings.

use super::{strings, Derived, Emit, ExtractError};

/// Nested messages deeper than this are treated as bytes.
const MAX_NESTING: usize = 16;

pub fn extract(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let mut found = Vec::new();
    if parse_message(data, 0, 0, &mut found).is_none() {
        return strings::extract(data, out);
    }
    let min = out.limits().min_string_len;
    for text in found.into_iter().filter(|t| t.text.len() >= min) {
        let detail = format!("protobuf string at offset {}", text.offset);
        out.emit(Derived::part(detail, text.text))?;
    }
    Ok(())
}

/// A string found in the message tree.
struct Text {
    offset: usize,
    text: Vec<u8>,
}

/// Walks one message; `None` if the bytes are not a message. Strings found go into `found`
/// only when the whole message parses.
fn parse_message(data: &[u8], base: usize, nesting: usize, found: &mut Vec<Text>) -> Option<()> {
    let mark = found.len();
    let mut fields = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let (tag, used) = varint(&data[pos..])?;
        pos += used;
        let field = tag >> 3;
        if field == 0 {
            return rollback(found, mark);
        }
        let len = match tag & 7 {
            0 => varint(&data[pos..])?.1,
            1 => 8,
            5 => 4,
            2 => {
                let (len, used) = varint(&data[pos..])?;
                pos += used;
                let len = usize::try_from(len).ok()?;
                let value = data.get(pos..pos.checked_add(len)?)?;
                fields.push((field, pos));
                length_delimited(value, base + pos, nesting, found);
                len
            }
            _ => return rollback(found, mark),
        };
        pos = pos.checked_add(len).filter(|&p| p <= data.len())?;
    }
    merge_key_value(&fields, base, mark, found);
    Some(())
}

fn rollback(found: &mut Vec<Text>, mark: usize) -> Option<()> {
    found.truncate(mark);
    None
}

/// Text is kept, anything else is tried as a nested message.
fn length_delimited(value: &[u8], offset: usize, nesting: usize, found: &mut Vec<Text>) {
    if is_text(value) {
        found.push(Text {
            offset,
            text: value.to_vec(),
        });
    } else if nesting < MAX_NESTING {
        let _ = parse_message(value, offset, nesting + 1, found);
    }
}

/// A message made of exactly a text field 1 and a text field 2 (`StringStringEntryProto`)
/// becomes one `key: value` string.
fn merge_key_value(fields: &[(u64, usize)], base: usize, mark: usize, found: &mut Vec<Text>) {
    let numbers: Vec<u64> = fields.iter().map(|(f, _)| *f).collect();
    let added = &found[mark..];
    if numbers != [1, 2] || added.len() != 2 || added[0].offset != base + fields[0].1 {
        return;
    }
    let mut text = found[mark].text.clone();
    text.extend_from_slice(b": ");
    text.extend_from_slice(&found[mark + 1].text);
    found.truncate(mark);
    found.push(Text { offset: base, text });
}

/// Valid UTF-8 with no control characters other than tab, newline and carriage return.
fn is_text(value: &[u8]) -> bool {
    !value.is_empty()
        && std::str::from_utf8(value).is_ok_and(|s| {
            s.chars()
                .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        })
}

/// A base-128 varint and the bytes it used; `None` if cut or longer than ten bytes.
fn varint(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in data.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::Collect;

    fn field(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3 | 2) as u8, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    /// A minimal ONNX ModelProto: ir_version, producer_name, doc_string, one metadata_props.
    pub(crate) fn onnx_model(key: &str, value: &str) -> Vec<u8> {
        let mut model = vec![0x08, 0x07];
        model.extend(field(2, b"pytorch-exporter"));
        model.extend(field(6, b"A model for testing."));
        let mut entry = field(1, key.as_bytes());
        entry.extend(field(2, value.as_bytes()));
        model.extend(field(14, &entry));
        // An initializer's raw float data: bytes, not text.
        model.extend(field(9, &[0, 0, 0x80, 0x3f, 1, 2, 0xff]));
        model
    }

    #[test]
    fn strings_and_metadata_props() {
        let mut out = Collect::default();
        extract(&onnx_model("api_key", "value-1234567890"), &mut out).unwrap();
        assert_eq!(
            out.texts(),
            [
                "pytorch-exporter",
                "A model for testing.",
                "api_key: value-1234567890"
            ]
        );
        assert_eq!(
            out.derived[1].inner,
            crate::source::Inner::Part("protobuf string at offset 22".into())
        );
    }

    #[test]
    fn garbage_falls_back_to_printable_strings() {
        let mut data = vec![0x0f, 0xff, 0xff];
        data.extend_from_slice(b"\0\0printable-run-here\0");
        let mut out = Collect::default();
        extract(&data, &mut out).unwrap();
        assert_eq!(out.texts(), ["printable-run-here"]);
    }

    #[test]
    fn varints() {
        assert_eq!(varint(&[0x96, 0x01]), Some((150, 2)));
        assert_eq!(varint(&[0x80; 11]), None);
        assert_eq!(varint(&[0x80]), None);
    }
}
