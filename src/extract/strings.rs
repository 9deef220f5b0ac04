//! Printable strings of a binary no extractor understands, as `strings(1)` finds them: runs of
//! at least [`Limits::min_string_len`](super::Limits) printable ASCII bytes (tab included).
//! Only with `--scan-binaries`; each run is a derived blob `string at offset N`. Also the
//! fallback of extractors whose format did not parse.

use super::{Derived, Emit, ExtractError};

pub fn extract(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let min = out.limits().min_string_len.max(1);
    for (start, end) in runs(data, min) {
        if (end - start) as u64 > out.room() {
            out.skip(crate::source::SkipReason::TooLarge);
            continue;
        }
        let detail = format!("string at offset {start}");
        out.emit(Derived::part(detail, data[start..end].to_vec()))?;
    }
    Ok(())
}

fn is_printable(byte: u8) -> bool {
    (0x20..0x7f).contains(&byte) || byte == b'\t'
}

/// Byte ranges of the printable runs of at least `min` bytes.
fn runs(data: &[u8], min: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < data.len() {
            let start = pos + data[pos..].iter().position(|&b| is_printable(b))?;
            let len = data[start..]
                .iter()
                .position(|&b| !is_printable(b))
                .unwrap_or(data.len() - start);
            pos = start + len;
            if len >= min {
                return Some((start, pos));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Collect;

    #[test]
    fn finds_long_runs_with_offsets() {
        let data = b"\x00\x01short\x00a-long-printable-run\xff\x00tail-end-of-data";
        assert_eq!(runs(data, 8).collect::<Vec<_>>(), [(8, 28), (30, 46)]);
        let mut out = Collect::default();
        extract(data, &mut out).unwrap();
        assert_eq!(out.texts(), ["a-long-printable-run", "tail-end-of-data"]);
        assert_eq!(
            out.derived[0].inner,
            crate::source::Inner::Part("string at offset 8".into())
        );
        assert_eq!(runs(b"", 8).count(), 0);
    }
}
