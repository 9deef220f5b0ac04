//! Extractors: content hidden inside other content, pulled out so the engine can see it.
//!
//! A blob may hold more blobs: archive members, notebook cells, strings in a pickle or a model
//! header, base64 runs in a config. [`walk`] recognises the format of a blob (magic bytes first,
//! file name second; see [`detect`]), runs the matching extractor, and pushes every blob it
//! finds, outer and derived, to a [`Sink`] (the pipeline), recursing into derived blobs. Each
//! derived blob carries a [`Provenance::Extracted`] that says where it came from.
//!
//! Everything here reads hostile input: nothing is executed or deserialised into objects, every
//! length is checked against the bytes that are really there before anything is allocated, and
//! every walk is bounded by [`Limits`] (nesting depth, bytes and blobs per input, member size,
//! compression ratio, decoded bytes). An input that breaks a limit or a format is reported as a
//! scan error, with the path and the reason, and the scan goes on.
//!
//! Detection costs one look at a few magic bytes and the file extension, so a blob no extractor
//! claims (plain source code) only pays for the encoded-run search (`encoded.rs`).

mod archive;
mod bytes;
mod encoded;
mod error;
mod gguf;
mod notebook;
mod pickle;
mod protobuf;
mod runs;
mod safetensors;
mod strings;

use std::{cell::Cell, path::Path};

use crate::source::{is_binary, Blob, Inner, Provenance, SkipReason};

pub use error::ExtractError;

/// Whether and how far to extract, validated before the scan starts.
#[derive(Clone, Debug)]
pub struct ExtractConfig {
    /// Off with `--no-extract`: every blob is scanned as it is, binary files are skipped.
    pub enabled: bool,
    /// `--scan-binaries`: binary files no extractor understands yield their printable strings
    /// instead of being skipped.
    pub scan_binaries: bool,
    pub limits: Limits,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        ExtractConfig {
            enabled: true,
            scan_binaries: false,
            limits: Limits::default(),
        }
    }
}

/// Bounds on one input's extraction. The defaults let real archives and model files through
/// and stop bombs early; memory per worker stays under `max_total_bytes` plus the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Containers inside containers (`a.zip!b.zip!c.tar!x`): deeper ones are an error.
    pub max_depth: usize,
    /// Decodings inside decodings (base64 of hex of ...), `--max-decode-depth`; 0 turns it off.
    pub max_decode_depth: usize,
    /// Bytes of derived content per input, all levels together.
    pub max_total_bytes: u64,
    /// Derived blobs per input, all levels together.
    pub max_blobs: u64,
    /// Uncompressed size of one member; larger members are skipped and counted as too large.
    pub max_member_size: u64,
    /// Compression ratio (uncompressed / compressed) above which a member larger than
    /// [`RATIO_FLOOR`] bytes is a bomb.
    pub max_ratio: u64,
    /// Decoded bytes (base64, hex, percent) per blob.
    pub max_decoded_bytes: u64,
    /// Size of a safetensors JSON header or a single GGUF/pickle string.
    pub max_header_size: u64,
    /// Shortest string worth scanning from a binary format: no secret is shorter.
    pub min_string_len: usize,
}

/// Members smaller than this are never called bombs, whatever their ratio: a 1 MiB run of
/// spaces compresses a thousandfold and harms no one.
pub const RATIO_FLOOR: u64 = 1 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 6,
            max_decode_depth: 2,
            max_total_bytes: 256 << 20,
            max_blobs: 200_000,
            max_member_size: 64 << 20,
            max_ratio: 200,
            max_decoded_bytes: 4 << 20,
            max_header_size: 100_000_000,
            min_string_len: 8,
        }
    }
}

/// Where [`walk`] pushes blobs: the pipeline scans them, counts skips and reports errors.
pub trait Sink {
    /// Scan one blob (outer or derived) with the engine.
    fn scan(&mut self, blob: &Blob);
    /// A derived blob that is not scanned, for a counted reason.
    fn skip(&mut self, reason: SkipReason);
    /// A blob whose extraction failed or hit a limit; what was pushed before still counts.
    fn error(&mut self, provenance: &Provenance, error: &ExtractError);
}

/// A blob an extractor found, before it gets its full provenance.
#[derive(Debug, PartialEq, Eq)]
pub struct Derived {
    pub data: Vec<u8>,
    pub inner: Inner,
    /// A file name for detection when `inner` is not a member (`x.tar` for `x.tar.gz`).
    pub name: Option<String>,
}

impl Derived {
    pub fn member(name: impl Into<String>, data: Vec<u8>) -> Derived {
        Derived {
            data,
            inner: Inner::Member(name.into()),
            name: None,
        }
    }

    pub fn part(detail: impl Into<String>, data: Vec<u8>) -> Derived {
        Derived {
            data,
            inner: Inner::Part(detail.into()),
            name: None,
        }
    }

    fn name(&self) -> Option<&str> {
        match (&self.inner, &self.name) {
            (_, Some(name)) => Some(name),
            (Inner::Member(name), None) => Some(name),
            (Inner::Part(_), None) => None,
        }
    }
}

/// What an extractor pushes derived blobs into; the walk implements it, tests collect.
pub trait Emit {
    fn limits(&self) -> &Limits;
    /// How many bytes one more derived blob may hold: the member limit, or less when the input's
    /// budget is nearly spent. Read no more than this (plus one, to tell "too large").
    fn room(&self) -> u64;
    /// Pushes a derived blob. Fails only when the input's budget is spent; the extractor must
    /// then stop (`?` does it).
    fn emit(&mut self, derived: Derived) -> Result<(), ExtractError>;
    /// Counts a member that is not extracted (too large).
    fn skip(&mut self, reason: SkipReason);
    /// Reports one member that cannot be extracted (encrypted, unsupported codec) while the
    /// rest of the container goes on.
    fn member_error(&mut self, member: &str, error: ExtractError);
    /// The file name of the blob being extracted, if it has one.
    fn parent_name(&self) -> Option<&str>;
}

/// The formats [`detect`] tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Notebook,
    Zip,
    Tar,
    Gzip,
    Pickle,
    Safetensors,
    Gguf,
    Protobuf,
    /// Text no extractor claims: scanned as is, and its encoded runs decoded.
    Text,
    /// Binary content no extractor claims.
    Binary,
}

impl Format {
    /// Formats that replace their blob: the blob itself is not scanned, only what comes out.
    fn is_container(self) -> bool {
        !matches!(self, Format::Text | Format::Binary)
    }
}

/// Recognises a blob's format: magic bytes first, then the file name's extension. Costs a few
/// byte comparisons plus the NUL sniff of [`is_binary`].
pub fn detect(name: Option<&str>, data: &[u8]) -> Format {
    let ext = name.and_then(extension).unwrap_or_default();
    let ext = ext.as_str();
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Format::Zip
    } else if data.starts_with(&[0x1f, 0x8b]) {
        Format::Gzip
    } else if gguf::sniff(data) {
        Format::Gguf
    } else if data.get(257..262) == Some(b"ustar") {
        Format::Tar
    } else if safetensors::sniff(data) {
        Format::Safetensors
    } else if pickle::sniff(ext, data) {
        Format::Pickle
    } else if ext == "ipynb" {
        Format::Notebook
    } else if matches!(ext, "onnx" | "pb") && is_binary(data) {
        Format::Protobuf
    } else if is_binary(data) {
        Format::Binary
    } else {
        Format::Text
    }
}

/// Whether an extractor understands this binary file; `read_file` keeps such files instead of
/// skipping them as binary.
pub fn claims_binary(path: &Path, data: &[u8]) -> bool {
    detect(path.file_name().and_then(|n| n.to_str()), data).is_container()
}

/// The lowercased extension of a file name (`"model.PT"` → `"pt"`).
fn extension(name: &str) -> Option<String> {
    let file = name.rsplit(['/', '\\']).next()?;
    let (stem, ext) = file.rsplit_once('.')?;
    (!stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// Pushes `blob` and everything extracted from it, recursively, to `sink`.
pub fn walk(config: &ExtractConfig, blob: &Blob, sink: &mut dyn Sink) {
    if !config.enabled {
        sink.scan(blob);
        return;
    }
    let mut walker = Walker {
        config,
        sink,
        bytes_left: Cell::new(config.limits.max_total_bytes),
        blobs_left: Cell::new(config.limits.max_blobs),
    };
    let name = match &blob.provenance {
        Provenance::File { path } => Some(path.as_str()),
        _ => None,
    };
    // A halt was reported where it happened; nothing is left to do with it here.
    let _ = walker.blob(blob, name, Depth::default());
}

/// How deep a blob sits: containers and decodings are bounded separately.
#[derive(Clone, Copy, Debug, Default)]
struct Depth {
    nesting: usize,
    decode: usize,
}

/// Stops the whole walk of an input: its budget is spent (already reported).
struct Halt;

struct Walker<'a> {
    config: &'a ExtractConfig,
    sink: &'a mut dyn Sink,
    bytes_left: Cell<u64>,
    blobs_left: Cell<u64>,
}

impl<'a> Walker<'a> {
    fn blob(&mut self, blob: &Blob, name: Option<&str>, depth: Depth) -> Result<(), Halt> {
        match detect(name, &blob.data) {
            Format::Text => self.text(blob, depth),
            Format::Binary => self.binary(blob, depth),
            format => self.container(format, blob, name, depth),
        }
    }

    /// Text is scanned as is; its encoded runs are decoded and walked as well.
    fn text(&mut self, blob: &Blob, depth: Depth) -> Result<(), Halt> {
        self.sink.scan(blob);
        if depth.decode >= self.config.limits.max_decode_depth {
            return Ok(());
        }
        let child_depth = Depth {
            decode: depth.decode + 1,
            ..depth
        };
        let result = encoded::extract(&blob.data, &mut self.emitter(blob, None, child_depth));
        self.finish(blob, result)
    }

    /// Unclaimed binary content: its printable strings with `--scan-binaries`; otherwise a
    /// derived blob is skipped and counted, and a top-level one (stdin) is scanned as before.
    fn binary(&mut self, blob: &Blob, depth: Depth) -> Result<(), Halt> {
        if self.config.scan_binaries {
            let result = strings::extract(&blob.data, &mut self.emitter(blob, None, depth));
            self.finish(blob, result)
        } else if depth.nesting > 0 {
            self.sink.skip(SkipReason::Binary);
            Ok(())
        } else {
            self.sink.scan(blob);
            Ok(())
        }
    }

    fn container(
        &mut self,
        format: Format,
        blob: &Blob,
        name: Option<&str>,
        depth: Depth,
    ) -> Result<(), Halt> {
        if depth.nesting >= self.config.limits.max_depth {
            let error = ExtractError::TooDeep {
                limit: self.config.limits.max_depth,
            };
            self.sink.error(&blob.provenance, &error);
            return Ok(());
        }
        let child_depth = Depth {
            nesting: depth.nesting + 1,
            ..depth
        };
        let result = extract_one(
            format,
            &blob.data,
            &mut self.emitter(blob, name, child_depth),
        );
        match result {
            // Not what its name said (a broken notebook is still text): treat it as unclaimed.
            Err(ExtractError::NotThisFormat) => self.unclaimed(blob, depth),
            // A text file that fails as the format its name claims (a `.pkl` of notes) is
            // reported and still scanned as text.
            Err(error) if !error.halts() && !is_binary(&blob.data) => {
                self.sink.error(&blob.provenance, &error);
                self.text(blob, depth)
            }
            result => self.finish(blob, result),
        }
    }

    fn unclaimed(&mut self, blob: &Blob, depth: Depth) -> Result<(), Halt> {
        if is_binary(&blob.data) {
            self.binary(blob, depth)
        } else {
            self.text(blob, depth)
        }
    }

    /// Reports a failed extraction; a spent budget also stops the rest of the walk.
    fn finish(&mut self, blob: &Blob, result: Result<(), ExtractError>) -> Result<(), Halt> {
        match result {
            Ok(()) => Ok(()),
            Err(ExtractError::Halted) => Err(Halt),
            Err(error) => {
                self.sink.error(&blob.provenance, &error);
                if error.halts() {
                    Err(Halt)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn emitter<'w>(
        &'w mut self,
        parent: &'w Blob,
        name: Option<&'w str>,
        depth: Depth,
    ) -> Emitter<'w, 'a> {
        Emitter {
            walker: self,
            parent,
            name,
            depth,
        }
    }
}

/// The walk's [`Emit`]: charges the budget, gives the derived blob its provenance, recurses.
struct Emitter<'w, 'a> {
    walker: &'w mut Walker<'a>,
    parent: &'w Blob,
    name: Option<&'w str>,
    depth: Depth,
}

impl Emit for Emitter<'_, '_> {
    fn limits(&self) -> &Limits {
        &self.walker.config.limits
    }

    fn room(&self) -> u64 {
        self.limits()
            .max_member_size
            .min(self.walker.bytes_left.get())
    }

    fn emit(&mut self, derived: Derived) -> Result<(), ExtractError> {
        let limits = *self.limits();
        let size = derived.data.len() as u64;
        let bytes_left = self.walker.bytes_left.get();
        let blobs_left = self.walker.blobs_left.get();
        if size > bytes_left {
            return Err(ExtractError::Budget {
                what: "bytes",
                limit: limits.max_total_bytes,
            });
        }
        if blobs_left == 0 {
            return Err(ExtractError::Budget {
                what: "blobs",
                limit: limits.max_blobs,
            });
        }
        self.walker.bytes_left.set(bytes_left - size);
        self.walker.blobs_left.set(blobs_left - 1);
        let name = derived.name().map(str::to_owned);
        let blob = Blob {
            provenance: Provenance::extracted(&self.parent.provenance, derived.inner),
            data: derived.data,
        };
        self.walker
            .blob(&blob, name.as_deref(), self.depth)
            .map_err(|Halt| ExtractError::Halted)
    }

    fn skip(&mut self, reason: SkipReason) {
        self.walker.sink.skip(reason);
    }

    fn member_error(&mut self, member: &str, error: ExtractError) {
        let inner = Inner::Member(member.to_string());
        let provenance = Provenance::extracted(&self.parent.provenance, inner);
        self.walker.sink.error(&provenance, &error);
    }

    fn parent_name(&self) -> Option<&str> {
        self.name
    }
}

/// An [`Emit`] that keeps what it is given: for unit tests and fuzz targets.
#[derive(Debug, Default)]
pub struct Collect {
    pub limits: Limits,
    pub derived: Vec<Derived>,
    pub skipped: Vec<SkipReason>,
    /// (member, message) of each member error.
    pub errors: Vec<(String, String)>,
    pub name: Option<String>,
}

impl Collect {
    /// The derived blobs as lossy text, for assertions.
    pub fn texts(&self) -> Vec<String> {
        self.derived
            .iter()
            .map(|d| String::from_utf8_lossy(&d.data).into_owned())
            .collect()
    }
}

impl Emit for Collect {
    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn room(&self) -> u64 {
        self.limits.max_member_size
    }

    fn emit(&mut self, derived: Derived) -> Result<(), ExtractError> {
        self.derived.push(derived);
        Ok(())
    }

    fn skip(&mut self, reason: SkipReason) {
        self.skipped.push(reason);
    }

    fn member_error(&mut self, member: &str, error: ExtractError) {
        self.errors.push((member.to_string(), error.to_string()));
    }

    fn parent_name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Runs one extractor directly, without recursion: the entry point of the fuzz targets.
pub fn extract_one(format: Format, data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    match format {
        Format::Notebook => notebook::extract(data, out),
        Format::Zip => archive::zip(data, out),
        Format::Tar => archive::tar(data, out),
        Format::Gzip => archive::gzip(data, out),
        Format::Pickle => pickle::extract(data, out),
        Format::Safetensors => safetensors::extract(data, out),
        Format::Gguf => gguf::extract(data, out),
        Format::Protobuf => protobuf::extract(data, out),
        Format::Text => encoded::extract(data, out),
        Format::Binary => strings::extract(data, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what the walk pushes: scanned paths (with `within`), skips, errors.
    #[derive(Default)]
    struct Record {
        scanned: Vec<String>,
        skipped: Vec<SkipReason>,
        errors: Vec<(String, String)>,
    }

    impl Sink for Record {
        fn scan(&mut self, blob: &Blob) {
            let mut label = blob.provenance.path().to_string();
            if let Some(within) = blob.provenance.within() {
                label.push_str(&format!(" ({within})"));
            }
            self.scanned.push(label);
        }

        fn skip(&mut self, reason: SkipReason) {
            self.skipped.push(reason);
        }

        fn error(&mut self, provenance: &Provenance, error: &ExtractError) {
            self.errors
                .push((provenance.path().to_string(), error.to_string()));
        }
    }

    fn walk_file(config: &ExtractConfig, path: &str, data: Vec<u8>) -> Record {
        let blob = Blob {
            data,
            provenance: Provenance::File { path: path.into() },
        };
        let mut record = Record::default();
        walk(config, &blob, &mut record);
        record
    }

    #[test]
    fn nested_members_get_nested_paths() {
        let inner = archive::tests::make_zip(&[("b.txt", b"bee"), ("img.bin", b"\0\x01")]);
        let outer = archive::tests::make_zip(&[("a.txt", b"ay"), ("inner.zip", &inner)]);
        let record = walk_file(&ExtractConfig::default(), "x.zip", outer);
        assert_eq!(record.scanned, ["x.zip!a.txt", "x.zip!inner.zip!b.txt"]);
        assert_eq!(record.skipped, [SkipReason::Binary]);
        assert!(record.errors.is_empty());
    }

    #[test]
    fn spent_budget_is_reported_once_and_stops_the_walk() {
        let members: Vec<(String, Vec<u8>)> = (0..10)
            .map(|i| (format!("m{i}.txt"), vec![b'a'; 100]))
            .collect();
        let refs: Vec<(&str, &[u8])> = members
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let inner = archive::tests::make_zip(&refs);
        let outer = archive::tests::make_zip(&[("inner.zip", &inner), ("late.txt", b"late")]);
        let mut config = ExtractConfig::default();
        config.limits.max_total_bytes = inner.len() as u64 + 350;
        let record = walk_file(&config, "x.zip", outer);
        assert_eq!(record.scanned.len(), 3, "{:?}", record.scanned);
        assert_eq!(record.errors.len(), 1, "{:?}", record.errors);
        assert_eq!(record.errors[0].0, "x.zip!inner.zip");
        assert!(record.errors[0].1.contains("budget"), "{:?}", record.errors);
    }

    #[test]
    fn text_that_is_not_its_claimed_format_is_still_scanned() {
        let record = walk_file(
            &ExtractConfig::default(),
            "notes.pkl",
            b"hello there\n".to_vec(),
        );
        assert_eq!(record.scanned, ["notes.pkl"]);
        assert_eq!(record.errors.len(), 1);
        let record = walk_file(&ExtractConfig::default(), "a.ipynb", b"{oops".to_vec());
        assert_eq!(record.scanned, ["a.ipynb"]);
        assert!(record.errors.is_empty());
    }

    #[test]
    fn disabled_and_top_level_binary() {
        let config = ExtractConfig {
            enabled: false,
            ..ExtractConfig::default()
        };
        let zip = archive::tests::make_zip(&[("a.txt", b"ay")]);
        assert_eq!(walk_file(&config, "x.zip", zip).scanned, ["x.zip"]);
        let blob = Blob {
            data: b"\0binary on stdin".to_vec(),
            provenance: Provenance::Stdin,
        };
        let mut record = Record::default();
        walk(&ExtractConfig::default(), &blob, &mut record);
        assert_eq!(record.scanned, ["<stdin>"]);
    }

    #[test]
    fn detection() {
        assert_eq!(detect(Some("a.PT"), b"PK\x03\x04rest"), Format::Zip);
        assert_eq!(detect(Some("a.pt"), &[0x80, 2, b'}']), Format::Pickle);
        assert_eq!(detect(Some("x/model.bin"), b"\0\x01"), Format::Binary);
        assert_eq!(detect(Some("n.ipynb"), b"{}"), Format::Notebook);
        assert_eq!(detect(Some("m.onnx"), b"\x08\x07\0"), Format::Protobuf);
        assert_eq!(detect(None, b"GGUF\x03\0\0\0"), Format::Gguf);
        assert_eq!(
            detect(Some("notes.md"), b"GGUF files hold models"),
            Format::Text
        );
        assert_eq!(detect(None, b"fn main() {}"), Format::Text);
        assert!(claims_binary(Path::new("d/m.gguf"), b"GGUF\x03\0\0\0"));
        assert!(!claims_binary(Path::new("d/m.gguf"), b"\0\0"));
        assert_eq!(extension(".env"), None);
        assert_eq!(extension("a/b.tar.GZ").as_deref(), Some("gz"));
    }
}
