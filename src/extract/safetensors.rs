//! safetensors: an 8-byte little-endian header length, a JSON header, then raw tensor bytes that
//! hold no strings. The header's `__metadata__` map is free text (where a secret could hide);
//! tensor names are strings too. Two derived blobs: `safetensors metadata` (one `key: value`
//! per line, so assignment-style rules see the key) and `safetensors tensor names`.
//!
//! The header length is checked against the data and [`Limits::max_header_size`](super::Limits)
//! (100 MB, the Rust crate's own cap) before it is read.

use serde_json::{Map, Value};

use super::{Derived, Emit, ExtractError};

/// A header length that fits the data, followed by `{`.
pub fn sniff(data: &[u8]) -> bool {
    let Some(len) = header_len(data) else {
        return false;
    };
    data.len() > 8 && data[8] == b'{' && len >= 2 && len <= (data.len() - 8) as u64
}

fn header_len(data: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(..8)?.try_into().ok()?))
}

pub fn extract(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let header = header(data, out.limits().max_header_size)?;
    let Value::Object(map) = serde_json::from_slice::<Value>(header)
        .map_err(|e| ExtractError::malformed(format!("safetensors header: {e}"), 8))?
    else {
        return Err(ExtractError::malformed(
            "safetensors header is not a JSON object",
            8,
        ));
    };
    if let Some(Value::Object(metadata)) = map.get("__metadata__") {
        out.emit(Derived::part(
            "safetensors metadata",
            metadata_lines(metadata),
        ))?;
    }
    let names: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "__metadata__")
        .collect();
    if !names.is_empty() {
        let text = names.join("\n").into_bytes();
        out.emit(Derived::part("safetensors tensor names", text))?;
    }
    Ok(())
}

/// The JSON header, bounds-checked and without its space padding.
fn header(data: &[u8], max: u64) -> Result<&[u8], ExtractError> {
    let len = header_len(data).ok_or(ExtractError::Truncated {
        what: "safetensors header length",
        offset: 0,
    })?;
    let available = (data.len() - 8) as u64;
    if len > max || len > available {
        return Err(ExtractError::Absurd {
            what: "safetensors header length",
            value: len,
            limit: max.min(available),
            offset: 0,
        });
    }
    let header = &data[8..8 + len as usize];
    let end = header.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    Ok(&header[..end])
}

/// `key: value` lines; a value that is not a string (the format says it must be) is written as
/// JSON rather than dropped.
fn metadata_lines(metadata: &Map<String, Value>) -> Vec<u8> {
    let mut text = String::new();
    for (key, value) in metadata {
        text.push_str(key);
        text.push_str(": ");
        match value {
            Value::String(s) => text.push_str(s),
            other => text.push_str(&other.to_string()),
        }
        text.push('\n');
    }
    text.into_bytes()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::Collect;

    /// A safetensors file with one tensor and the given metadata.
    pub(crate) fn make(metadata: &[(&str, &str)]) -> Vec<u8> {
        let metadata: Map<String, Value> = metadata
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        let header = serde_json::json!({
            "__metadata__": metadata,
            "w": { "dtype": "F32", "shape": [1], "data_offsets": [0, 4] },
        });
        let mut json = serde_json::to_vec(&header).unwrap();
        while !json.len().is_multiple_of(8) {
            json.push(b' ');
        }
        let mut file = (json.len() as u64).to_le_bytes().to_vec();
        file.extend(json);
        file.extend_from_slice(&[0, 0, 128, 63]);
        file
    }

    #[test]
    fn metadata_and_names() {
        let file = make(&[("format", "pt"), ("note", "line one\nline two")]);
        assert!(sniff(&file));
        let mut out = Collect::default();
        extract(&file, &mut out).unwrap();
        assert_eq!(out.texts(), ["format: pt\nnote: line one\nline two\n", "w"]);
    }

    #[test]
    fn hostile_headers() {
        let mut file = u64::MAX.to_le_bytes().to_vec();
        file.extend_from_slice(b"{}");
        assert!(!sniff(&file));
        let err = extract(&file, &mut Collect::default()).unwrap_err();
        assert!(matches!(err, ExtractError::Absurd { .. }), "{err}");
        let mut file = 4u64.to_le_bytes().to_vec();
        file.extend_from_slice(b"[1] ");
        assert!(extract(&file, &mut Collect::default()).is_err());
        assert!(extract(b"short", &mut Collect::default()).is_err());
    }
}
