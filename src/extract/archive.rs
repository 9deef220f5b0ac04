//! Archives: zip (and everything built on it: jar, whl, apk, docx/xlsx, PyTorch `.pt`, npz),
//! tar, and gzip streams. Each member becomes a derived blob named `archive!member`.
//!
//! Bomb protection works on what is really inflated, never on what a header promises: every
//! member is read through a cap (the member limit, or what is left of the input's budget), a
//! member that inflates past [`Limits::max_ratio`] times its compressed size is a bomb and stops
//! the archive, and one that outgrows the size its header declared is refused as hostile.
//! Members are read one at a time and dropped after their walk, so memory holds one path of
//! nesting, not the whole archive. bzip2, xz and zstd members are reported as unsupported (see
//! the README on why those codecs are not linked).

use std::io::{Cursor, Read};

use flate2::read::MultiGzDecoder;

use super::{Derived, Emit, ExtractError, Limits, RATIO_FLOOR};
use crate::source::SkipReason;

/// Members that cannot be read (encrypted, unsupported codec) are reported one by one up to
/// this many; past it the archive is called malformed.
const MAX_BROKEN_MEMBERS: usize = 100;

/// Walks a zip archive's central directory and emits each file member.
pub fn zip(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(data))?;
    let comment = archive.comment();
    if !comment.is_empty() {
        out.emit(Derived::part("zip comment", comment.to_vec()))?;
    }
    let mut broken = 0;
    for index in 0..archive.len() {
        let name = archive
            .name_for_index(index)
            .and_then(Result::ok)
            .map_or_else(|| format!("#{index}"), |n| n.into_owned());
        let result = match archive.by_index(index) {
            Ok(mut file) if !file.is_dir() => {
                let sizes = Sizes {
                    declared: file.size(),
                    compressed: file.compressed_size(),
                };
                read_member(&mut file, &name, sizes, out)
            }
            Ok(_) => Ok(None),
            Err(err) => Err(err.into()),
        };
        match result {
            Ok(Some(data)) => out.emit(Derived::member(name, data))?,
            Ok(None) => {}
            // Encrypted, an unsupported codec, a bad CRC: that member is lost, not the archive.
            Err(err @ (ExtractError::Zip(_) | ExtractError::Io(_))) => {
                broken += 1;
                if broken > MAX_BROKEN_MEMBERS {
                    return Err(ExtractError::malformed("too many unreadable members", 0));
                }
                out.member_error(&name, err);
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Walks a tar archive and emits each regular file.
pub fn tar(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let mut archive = tar::Archive::new(data);
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.size();
        // A tar member is stored, not compressed: its ratio is 1.
        let sizes = Sizes {
            declared: size,
            compressed: size,
        };
        if let Some(data) = read_member(&mut entry, &name, sizes, out)? {
            out.emit(Derived::member(name, data))?;
        }
    }
    Ok(())
}

/// Inflates a gzip stream (all members, as `gzip -d` does) into one derived blob.
pub fn gzip(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let inner_name = out.parent_name().and_then(gunzipped_name);
    let mut decoder = MultiGzDecoder::new(data);
    let member = inner_name.clone().unwrap_or_else(|| "gzip stream".into());
    let sizes = Sizes {
        // Unknown until inflated; the cap and the ratio guard bound it.
        declared: u64::MAX,
        compressed: data.len() as u64,
    };
    let Some(inflated) = read_member(&mut decoder, &member, sizes, out)? else {
        return Ok(());
    };
    let name = inner_name.or_else(|| {
        let header = decoder.header()?;
        Some(String::from_utf8_lossy(header.filename()?).into_owned())
    });
    out.emit(Derived {
        name,
        ..Derived::part("gzip-decompressed", inflated)
    })
}

/// `logs.tar.gz` → `logs.tar`, `x.tgz` → `x.tar`, `notes.ipynb.gz` → `notes.ipynb`.
fn gunzipped_name(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tgz") {
        Some(format!("{}.tar", &name[..name.len() - 4]))
    } else if lower.ends_with(".gz") {
        Some(name[..name.len() - 3].to_string())
    } else {
        None
    }
}

/// What a member's header says about its size.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    declared: u64,
    compressed: u64,
}

/// Reads one member through the caps. `None`: skipped as too large (counted). Errors: a bomb,
/// a size that lies, a spent budget, a broken stream.
fn read_member(
    reader: &mut dyn Read,
    name: &str,
    sizes: Sizes,
    out: &mut dyn Emit,
) -> Result<Option<Vec<u8>>, ExtractError> {
    let limits = *out.limits();
    let room = out.room();
    if sizes.declared != u64::MAX {
        check_ratio(&limits, name, sizes.compressed, sizes.declared)?;
        if sizes.declared > room {
            return too_large(&limits, room, out);
        }
    }
    let cap = room.min(sizes.declared);
    let mut data = Vec::with_capacity(cap.min(1 << 20) as usize);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            return Ok(Some(data));
        }
        data.extend_from_slice(&chunk[..n]);
        let got = data.len() as u64;
        check_ratio(&limits, name, sizes.compressed, got)?;
        if got > sizes.declared {
            return Err(ExtractError::SizeMismatch {
                member: name.to_string(),
                declared: sizes.declared,
            });
        }
        if got > cap {
            return too_large(&limits, room, out);
        }
    }
}

/// A member over the member limit is skipped and counted; one over what is left of the input's
/// budget ends the extraction.
fn too_large(
    limits: &Limits,
    room: u64,
    out: &mut dyn Emit,
) -> Result<Option<Vec<u8>>, ExtractError> {
    if room < limits.max_member_size {
        return Err(ExtractError::Budget {
            what: "bytes",
            limit: limits.max_total_bytes,
        });
    }
    out.skip(SkipReason::TooLarge);
    Ok(None)
}

fn check_ratio(
    limits: &Limits,
    name: &str,
    compressed: u64,
    uncompressed: u64,
) -> Result<(), ExtractError> {
    if uncompressed > RATIO_FLOOR && uncompressed / compressed.max(1) > limits.max_ratio {
        return Err(ExtractError::Bomb {
            member: name.to_string(),
            compressed,
            uncompressed,
        });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;
    use crate::extract::Collect;

    /// A zip of (name, contents), deflated.
    pub(crate) fn make_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn gzip_bytes(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn make_tar(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn zip_members_are_emitted_with_names() {
        let zip = make_zip(&[("config/.env", b"TOKEN=abc\n"), ("b.txt", b"bee")]);
        let mut out = Collect::default();
        super::zip(&zip, &mut out).unwrap();
        assert_eq!(
            out.derived[0],
            Derived::member("config/.env", b"TOKEN=abc\n".to_vec())
        );
        assert_eq!(out.texts()[1], "bee");
    }

    #[test]
    fn zip_bomb_is_refused() {
        let zeros = vec![0u8; 8 << 20];
        let zip = make_zip(&[("zeros.bin", &zeros)]);
        let mut out = Collect::default();
        let err = super::zip(&zip, &mut out).unwrap_err();
        assert!(matches!(err, ExtractError::Bomb { .. }), "{err}");
        assert!(out.derived.is_empty());
    }

    #[test]
    fn oversized_member_is_skipped_and_counted() {
        let zip = make_zip(&[("big.txt", &[b'x'; 4096]), ("small.txt", b"hi")]);
        let mut out = Collect::default();
        out.limits.max_member_size = 1024;
        super::zip(&zip, &mut out).unwrap();
        assert_eq!(out.skipped, [SkipReason::TooLarge]);
        assert_eq!(out.texts(), ["hi"]);
    }

    #[test]
    fn tar_and_gzip() {
        let tar = make_tar(&[("etc/app.conf", b"key = value\n")]);
        let mut out = Collect::default();
        super::tar(&tar, &mut out).unwrap();
        assert_eq!(
            out.derived,
            [Derived::member("etc/app.conf", b"key = value\n".to_vec())]
        );

        let gz = gzip_bytes(&tar);
        let mut out = Collect::default();
        super::gzip(&gz, &mut out).unwrap();
        assert_eq!(out.derived[0].data, tar);
    }

    #[test]
    fn truncated_archives_are_errors() {
        let zip = make_zip(&[("a.txt", b"hello")]);
        assert!(super::zip(&zip[..zip.len() - 10], &mut Collect::default()).is_err());
        let gz = gzip_bytes(b"hello hello hello");
        assert!(super::gzip(&gz[..gz.len() - 6], &mut Collect::default()).is_err());
    }

    /// Rewrites the compression method of every member, in local and central headers.
    fn set_method(zip: &mut [u8], method: u16) {
        for (signature, field) in [(b"PK\x03\x04", 8), (b"PK\x01\x02", 10)] {
            let starts: Vec<usize> = zip
                .windows(4)
                .enumerate()
                .filter(|(_, w)| w == signature)
                .map(|(i, _)| i)
                .collect();
            for start in starts {
                zip[start + field..start + field + 2].copy_from_slice(&method.to_le_bytes());
            }
        }
    }

    #[test]
    fn unsupported_codec_is_a_member_error() {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        writer.start_file("a.txt", stored).unwrap();
        writer.write_all(b"hello").unwrap();
        let mut zip = writer.finish().unwrap().into_inner();
        set_method(&mut zip, 12); // bzip2, not linked
        let mut out = Collect::default();
        super::zip(&zip, &mut out).unwrap();
        assert!(out.derived.is_empty());
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        assert_eq!(out.errors[0].0, "a.txt");
    }

    #[test]
    fn member_larger_than_declared_is_refused() {
        let mut zip = make_zip(&[("a.txt", &[b'a'; 1000])]);
        // Declare 10 bytes uncompressed in the central directory.
        let cd = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        zip[cd + 24..cd + 28].copy_from_slice(&10u32.to_le_bytes());
        let mut out = Collect::default();
        let result = super::zip(&zip, &mut out);
        // Either the zip crate notices (a member error) or the cap does (the archive stops).
        match result {
            Ok(()) => assert_eq!(out.errors.len(), 1, "{:?}", out.errors),
            Err(err) => assert!(matches!(err, ExtractError::SizeMismatch { .. }), "{err}"),
        }
        assert!(out.derived.iter().all(|d| d.data.len() <= 10));
    }

    #[test]
    fn gunzipped_names() {
        assert_eq!(
            gunzipped_name("a/logs.tar.gz").as_deref(),
            Some("a/logs.tar")
        );
        assert_eq!(gunzipped_name("x.TGZ").as_deref(), Some("x.tar"));
        assert_eq!(gunzipped_name("x.zip"), None);
    }
}
