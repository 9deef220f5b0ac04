//! Just enough of the zip format to find one member of a remote archive with range reads:
//! the end-of-central-directory record (and its ZIP64 form) in the file's tail, the central
//! directory, and a member's local header. PyTorch writes its checkpoints as zips whose
//! `data.pkl` holds every string; the tensors around it are never fetched.

use std::fmt;

const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD_LEN: usize = 22;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_LOCATOR_LEN: usize = 20;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
pub const ZIP64_EOCD_LEN: usize = 56;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const CENTRAL_LEN: usize = 46;
const LOCAL_SIG: u32 = 0x0403_4b50;
pub const LOCAL_LEN: usize = 30;

/// How much of a file's end to read first: the EOCD record plus the longest comment, which is
/// also room for the central directory of a typical checkpoint.
pub const TAIL_LEN: u64 = (EOCD_LEN + u16::MAX as usize) as u64;

/// Zip structures that do not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipError(pub String);

impl fmt::Display for ZipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zip: {}", self.0)
    }
}

fn bad(what: &str) -> ZipError {
    ZipError(what.to_string())
}

/// Where the central directory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectoryAt {
    /// Offset and size, from a classic EOCD record.
    Known { offset: u64, size: u64 },
    /// A ZIP64 archive: the ZIP64 EOCD record at this offset has them.
    Zip64Record { offset: u64 },
}

/// A member, from its central directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// 0 = stored, 8 = deflate.
    pub method: u16,
    pub compressed_size: u64,
    pub local_header_offset: u64,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Finds the EOCD record in `tail`, the last bytes of a file. `None`: not a zip.
pub fn locate_directory(tail: &[u8]) -> Option<DirectoryAt> {
    let eocd = (0..=tail.len().checked_sub(EOCD_LEN)?)
        .rev()
        .find(|&i| u32_at(tail, i) == Some(EOCD_SIG))?;
    let size = u32_at(tail, eocd + 12)?;
    let offset = u32_at(tail, eocd + 16)?;
    let locator = eocd
        .checked_sub(ZIP64_LOCATOR_LEN)
        .filter(|&l| u32_at(tail, l) == Some(ZIP64_LOCATOR_SIG));
    match locator {
        Some(l) => Some(DirectoryAt::Zip64Record {
            offset: u64_at(tail, l + 8)?,
        }),
        None if offset == u32::MAX || size == u32::MAX => None,
        None => Some(DirectoryAt::Known {
            offset: u64::from(offset),
            size: u64::from(size),
        }),
    }
}

/// Reads the central directory's offset and size from a ZIP64 EOCD record.
pub fn parse_zip64_record(record: &[u8]) -> Result<(u64, u64), ZipError> {
    if u32_at(record, 0) != Some(ZIP64_EOCD_SIG) {
        return Err(bad("ZIP64 end record signature missing"));
    }
    let size = u64_at(record, 40).ok_or_else(|| bad("short ZIP64 end record"))?;
    let offset = u64_at(record, 48).ok_or_else(|| bad("short ZIP64 end record"))?;
    Ok((offset, size))
}

/// Parses every entry of a central directory.
pub fn parse_directory(directory: &[u8]) -> Result<Vec<Member>, ZipError> {
    let mut members = Vec::new();
    let mut at = 0;
    while at + CENTRAL_LEN <= directory.len() {
        if u32_at(directory, at) != Some(CENTRAL_SIG) {
            break;
        }
        let field = |offset| u16_at(directory, at + offset).map(usize::from);
        let name_len = field(28).ok_or_else(|| bad("short entry"))?;
        let extra_len = field(30).ok_or_else(|| bad("short entry"))?;
        let comment_len = field(32).ok_or_else(|| bad("short entry"))?;
        let name_start = at + CENTRAL_LEN;
        let extra_start = name_start + name_len;
        let end = extra_start + extra_len + comment_len;
        let (name, extra) = match (
            directory.get(name_start..extra_start),
            directory.get(extra_start..extra_start + extra_len),
        ) {
            (Some(name), Some(extra)) if end <= directory.len() => (name, extra),
            _ => return Err(bad("entry runs past the central directory")),
        };
        members.push(member(&directory[at..], name, extra)?);
        at = end;
    }
    Ok(members)
}

/// One entry, with ZIP64 sizes and offsets taken from the extra field where the classic
/// fields say 0xFFFFFFFF.
fn member(entry: &[u8], name: &[u8], extra: &[u8]) -> Result<Member, ZipError> {
    let short = || bad("short entry");
    let method = u16_at(entry, 10).ok_or_else(short)?;
    let compressed = u32_at(entry, 20).ok_or_else(short)?;
    let uncompressed = u32_at(entry, 24).ok_or_else(short)?;
    let offset = u32_at(entry, 42).ok_or_else(short)?;
    let mut zip64 = zip64_fields(extra).into_iter();
    // The ZIP64 extra holds, in this order, only the fields that overflowed.
    let mut widen = |value: u32| -> Result<u64, ZipError> {
        if value == u32::MAX {
            zip64.next().ok_or_else(|| bad("ZIP64 field missing"))
        } else {
            Ok(u64::from(value))
        }
    };
    let _ = widen(uncompressed)?;
    let compressed_size = widen(compressed)?;
    let local_header_offset = widen(offset)?;
    Ok(Member {
        name: String::from_utf8_lossy(name).into_owned(),
        method,
        compressed_size,
        local_header_offset,
    })
}

/// The u64 values of the ZIP64 extended-information extra field (id 1), if any.
fn zip64_fields(extra: &[u8]) -> Vec<u64> {
    let mut at = 0;
    while let (Some(id), Some(len)) = (u16_at(extra, at), u16_at(extra, at + 2)) {
        let data = extra
            .get(at + 4..at + 4 + usize::from(len))
            .unwrap_or_default();
        if id == 1 {
            return data
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect();
        }
        at += 4 + usize::from(len);
    }
    Vec::new()
}

/// Length of a local file header (fixed part, name, extra): the member's data follows it.
pub fn local_header_len(local: &[u8]) -> Result<u64, ZipError> {
    if u32_at(local, 0) != Some(LOCAL_SIG) {
        return Err(bad("local header signature missing"));
    }
    let name_len = u16_at(local, 26).ok_or_else(|| bad("short local header"))?;
    let extra_len = u16_at(local, 28).ok_or_else(|| bad("short local header"))?;
    Ok(LOCAL_LEN as u64 + u64::from(name_len) + u64::from(extra_len))
}

/// The member that holds a PyTorch checkpoint's pickle: `data.pkl` at the shallowest depth.
pub fn pickle_member(members: &[Member]) -> Option<&Member> {
    members
        .iter()
        .filter(|m| m.name == "data.pkl" || m.name.ends_with("/data.pkl"))
        .min_by_key(|m| m.name.matches('/').count())
}

/// Test support: builds stored (uncompressed) zips, optionally in ZIP64 form. Used by this
/// module's tests and by the weight-extraction tests.
#[cfg(test)]
pub mod build {
    /// Writes `members` (name, data) as a stored zip.
    pub fn zip(members: &[(&str, &[u8])], zip64: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in members {
            let offset = out.len() as u32;
            out.extend(0x0403_4b50u32.to_le_bytes());
            out.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend((data.len() as u32).to_le_bytes());
            out.extend((data.len() as u32).to_le_bytes());
            out.extend((name.len() as u16).to_le_bytes());
            // A 12-byte padding extra, like PyTorch's alignment field.
            out.extend(12u16.to_le_bytes());
            out.extend(name.as_bytes());
            out.extend([0xfb, 0x46, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend(*data);
            central.extend(0x0201_4b50u32.to_le_bytes());
            central.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            let (size, off, extra) = if zip64 {
                let mut extra = vec![1, 0, 24, 0];
                extra.extend((data.len() as u64).to_le_bytes());
                extra.extend((data.len() as u64).to_le_bytes());
                extra.extend(u64::from(offset).to_le_bytes());
                (u32::MAX, u32::MAX, extra)
            } else {
                (data.len() as u32, offset, Vec::new())
            };
            central.extend(size.to_le_bytes());
            central.extend(size.to_le_bytes());
            central.extend((name.len() as u16).to_le_bytes());
            central.extend((extra.len() as u16).to_le_bytes());
            // Comment length, disk, internal and external attributes.
            central.extend([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend(off.to_le_bytes());
            central.extend(name.as_bytes());
            central.extend(extra);
        }
        let cd_offset = out.len() as u64;
        out.extend(&central);
        if zip64 {
            let record = out.len() as u64;
            out.extend(0x0606_4b50u32.to_le_bytes());
            out.extend(44u64.to_le_bytes());
            out.extend([45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend((members.len() as u64).to_le_bytes());
            out.extend((members.len() as u64).to_le_bytes());
            out.extend((central.len() as u64).to_le_bytes());
            out.extend(cd_offset.to_le_bytes());
            out.extend(0x0706_4b50u32.to_le_bytes());
            out.extend(0u32.to_le_bytes());
            out.extend(record.to_le_bytes());
            out.extend(1u32.to_le_bytes());
        }
        out.extend(0x0605_4b50u32.to_le_bytes());
        out.extend([0, 0, 0, 0]);
        let count = if zip64 {
            u16::MAX
        } else {
            members.len() as u16
        };
        out.extend(count.to_le_bytes());
        out.extend(count.to_le_bytes());
        let (size, offset) = if zip64 {
            (u32::MAX, u32::MAX)
        } else {
            (central.len() as u32, cd_offset as u32)
        };
        out.extend(size.to_le_bytes());
        out.extend(offset.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(zip64: bool) {
        let file = build::zip(
            &[
                ("archive/version", b"3\n"),
                ("archive/data.pkl", b"\x80\x02secret"),
                ("archive/data/0", &[0u8; 300]),
            ],
            zip64,
        );
        let tail_start = file.len().saturating_sub(TAIL_LEN as usize);
        let (offset, size) = match locate_directory(&file[tail_start..]) {
            Some(DirectoryAt::Known { offset, size }) => (offset, size),
            Some(DirectoryAt::Zip64Record { offset }) => {
                assert!(zip64);
                let at = offset as usize;
                parse_zip64_record(&file[at..at + ZIP64_EOCD_LEN]).unwrap()
            }
            None => panic!("EOCD not found"),
        };
        let members = parse_directory(&file[offset as usize..(offset + size) as usize]).unwrap();
        assert_eq!(members.len(), 3);
        let member = pickle_member(&members).unwrap();
        assert_eq!(member.name, "archive/data.pkl");
        assert_eq!(member.method, 0);
        let at = member.local_header_offset as usize;
        let start = at + local_header_len(&file[at..]).unwrap() as usize;
        let data = &file[start..start + member.compressed_size as usize];
        assert_eq!(data, b"\x80\x02secret");
    }

    #[test]
    fn classic_zip() {
        roundtrip(false);
    }

    #[test]
    fn zip64() {
        roundtrip(true);
    }

    #[test]
    fn not_a_zip() {
        assert_eq!(locate_directory(b"GGUF and some bytes"), None);
        assert_eq!(locate_directory(b""), None);
        assert!(parse_directory(b"PK\x01\x02short").unwrap().is_empty());
    }

    #[test]
    fn shallowest_pickle_wins() {
        let m = |name: &str| Member {
            name: name.into(),
            method: 0,
            compressed_size: 1,
            local_header_offset: 0,
        };
        let members = [m("a/b/data.pkl"), m("a/data.pkl"), m("a/x.pkl")];
        assert_eq!(pickle_member(&members).unwrap().name, "a/data.pkl");
    }
}
