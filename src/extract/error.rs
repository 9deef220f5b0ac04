//! Why an extraction failed. Each variant carries what a reader of the error report needs to
//! judge it (offset, size, limit); the walk reports it with the blob's path and goes on.

use std::{fmt, io};

#[derive(Debug)]
pub enum ExtractError {
    /// The data ends inside a structure.
    Truncated { what: &'static str, offset: u64 },
    /// A structure that does not follow its format.
    Malformed { what: String, offset: u64 },
    /// A declared length that runs past the end of the data: a cut file, or an absurd length
    /// (`2^64 - 1`); refused before any allocation.
    PastEnd {
        what: &'static str,
        len: u64,
        left: u64,
        offset: u64,
    },
    /// A declared length or count over a limit, refused before any allocation.
    Absurd {
        what: &'static str,
        value: u64,
        limit: u64,
        offset: u64,
    },
    /// A member that decompresses far beyond its compressed size.
    Bomb {
        member: String,
        compressed: u64,
        uncompressed: u64,
    },
    /// A member whose data runs past the size its header declared.
    SizeMismatch { member: String, declared: u64 },
    /// Containers nested deeper than the limit; the deepest one is not opened.
    TooDeep { limit: usize },
    /// The input's budget of derived bytes or blobs is spent; the rest is not extracted.
    Budget { what: &'static str, limit: u64 },
    /// The zip crate could not read the archive.
    Zip(zip::result::ZipError),
    /// Reading a compressed stream or a tar entry failed.
    Io(io::Error),
    /// Not the format its name promised (a notebook that is not JSON): scan it as unclaimed.
    NotThisFormat,
    /// A budget ran out deeper down and was reported there; stop quietly.
    Halted,
}

impl ExtractError {
    /// Errors after which nothing more of the input is extracted.
    pub fn halts(&self) -> bool {
        matches!(self, ExtractError::Budget { .. } | ExtractError::Halted)
    }

    pub(crate) fn truncated(what: &'static str, offset: usize) -> ExtractError {
        ExtractError::Truncated {
            what,
            offset: offset as u64,
        }
    }

    pub(crate) fn malformed(what: impl Into<String>, offset: usize) -> ExtractError {
        ExtractError::Malformed {
            what: what.into(),
            offset: offset as u64,
        }
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtractError::Truncated { what, offset } => {
                write!(f, "truncated {what} at byte {offset}")
            }
            ExtractError::Malformed { what, offset } => {
                write!(f, "malformed: {what} at byte {offset}")
            }
            ExtractError::PastEnd {
                what,
                len,
                left,
                offset,
            } => write!(
                f,
                "{what} of {len} bytes at byte {offset} runs past the end of the data \
                 ({left} bytes left)"
            ),
            ExtractError::Absurd {
                what,
                value,
                limit,
                offset,
            } => write!(
                f,
                "{what} of {value} at byte {offset} exceeds the limit of {limit}"
            ),
            ExtractError::Bomb {
                member,
                compressed,
                uncompressed,
            } => write!(
                f,
                "possible decompression bomb: `{member}` inflates {compressed} bytes to more \
                 than {uncompressed}; not extracted further"
            ),
            ExtractError::SizeMismatch { member, declared } => write!(
                f,
                "`{member}` holds more than the {declared} bytes its header declares"
            ),
            ExtractError::TooDeep { limit } => {
                write!(
                    f,
                    "containers nested deeper than {limit} levels; not opened"
                )
            }
            ExtractError::Budget { what, limit } => write!(
                f,
                "extraction budget of {limit} {what} per input spent; the rest is not scanned"
            ),
            ExtractError::Zip(err) => write!(f, "zip: {err}"),
            ExtractError::Io(err) => write!(f, "{err}"),
            ExtractError::NotThisFormat => f.write_str("not in the expected format"),
            ExtractError::Halted => f.write_str("extraction stopped"),
        }
    }
}

impl std::error::Error for ExtractError {}

impl From<zip::result::ZipError> for ExtractError {
    fn from(err: zip::result::ZipError) -> Self {
        ExtractError::Zip(err)
    }
}

impl From<io::Error> for ExtractError {
    fn from(err: io::Error) -> Self {
        ExtractError::Io(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_context() {
        let err = ExtractError::Absurd {
            what: "BINUNICODE8 length",
            value: u64::MAX,
            limit: 100,
            offset: 2,
        };
        assert_eq!(
            err.to_string(),
            format!(
                "BINUNICODE8 length of {} at byte 2 exceeds the limit of 100",
                u64::MAX
            )
        );
        assert!(ExtractError::Budget {
            what: "bytes",
            limit: 1
        }
        .halts());
        assert!(!ExtractError::truncated("GGUF string", 9).halts());
    }
}
