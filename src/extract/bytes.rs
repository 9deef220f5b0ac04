//! A bounds-checked reader over a byte slice, shared by the binary-format extractors. Every
//! read checks the bytes that are really there and fails with the offset, so a declared length
//! is never trusted for an allocation.

use super::ExtractError;

pub struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
    big_endian: bool,
}

impl<'a> ByteReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        ByteReader {
            data,
            pos: 0,
            big_endian: false,
        }
    }

    pub fn set_big_endian(&mut self, big_endian: bool) {
        self.big_endian = big_endian;
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `len` bytes; `what` names the structure in the error.
    pub fn take(&mut self, len: u64, what: &'static str) -> Result<&'a [u8], ExtractError> {
        if len > self.remaining() as u64 {
            return Err(ExtractError::PastEnd {
                what,
                len,
                left: self.remaining() as u64,
                offset: self.pos as u64,
            });
        }
        let start = self.pos;
        self.pos += len as usize;
        Ok(&self.data[start..self.pos])
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ExtractError> {
        if self.remaining() < N {
            return Err(ExtractError::truncated(what, self.pos));
        }
        let mut out = [0u8; N];
        out.copy_from_slice(&self.data[self.pos..self.pos + N]);
        self.pos += N;
        Ok(out)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, ExtractError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, ExtractError> {
        let bytes = self.array(what)?;
        Ok(if self.big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, ExtractError> {
        let bytes = self.array(what)?;
        Ok(if self.big_endian {
            u64::from_be_bytes(bytes)
        } else {
            u64::from_le_bytes(bytes)
        })
    }

    /// Skips `len` bytes.
    pub fn skip(&mut self, len: u64, what: &'static str) -> Result<(), ExtractError> {
        self.take(len, what).map(|_| ())
    }

    /// The bytes up to the next `\n` (excluded), which is consumed.
    pub fn line(&mut self, what: &'static str) -> Result<&'a [u8], ExtractError> {
        let rest = &self.data[self.pos..];
        let Some(end) = memchr::memchr(b'\n', rest) else {
            return Err(ExtractError::truncated(what, self.pos));
        };
        self.pos += end + 1;
        Ok(&rest[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let mut r = ByteReader::new(&[1, 0, 0, 0, 2, b'a', b'\n']);
        assert_eq!(r.u32("n").unwrap(), 1);
        assert_eq!(r.u8("b").unwrap(), 2);
        assert_eq!(r.line("l").unwrap(), b"a");
        assert!(r.is_empty());
        assert!(r.u8("b").is_err());
        let mut r = ByteReader::new(&[0, 0, 0, 9, 1]);
        r.set_big_endian(true);
        assert_eq!(r.u32("n").unwrap(), 9);
        let err = r.take(u64::MAX, "string").unwrap_err();
        assert!(
            matches!(err, ExtractError::PastEnd { offset: 4, .. }),
            "{err}"
        );
    }
}
