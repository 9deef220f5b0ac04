//! One file of a repo: what to fetch, and fetching it.
//!
//! Text-like files are fetched whole (up to `--max-file-size`) and sniffed for binary content
//! like files on disk. Weight files are never downloaded whole; only the parts that hold
//! strings are read, with Range requests:
//!
//! - safetensors: the 8-byte header length, then the JSON header (tensor names and the
//!   free-text `__metadata__` map);
//! - GGUF: the first [`GGUF_PREFIX`] bytes, where the metadata key-values sit;
//! - PyTorch zips (`.bin`, `.pt`, `.pth`, `.ckpt`): the central directory from the file's tail,
//!   then the `data.pkl` member; a legacy (non-zip) checkpoint or a bare pickle: its start.
//!
//! Known binary formats (images, archives, parquet, onnx…) are skipped without a request.
//! The bytes are handed to the engine as they are; decoding them is the extractors' job.

use std::fmt;

use reqwest::Url;

use super::{
    api::TreeEntry,
    client::{ByteRange, HubClient, HubError},
    zip::{self, DirectoryAt, ZipError},
};
use crate::source::{is_binary, SkipReason};

/// First read of a safetensors file: most headers fit (huggingface_hub reads the same).
pub const SAFETENSORS_FIRST_READ: u64 = 100_000;
/// How much of a GGUF file is read: its metadata, unless huge token arrays push part of it
/// further (a chat template after 200k tokens is missed).
pub const GGUF_PREFIX: u64 = 1 << 20;
/// How much of a legacy PyTorch checkpoint or a pickle is read: the object pickle comes first.
pub const PICKLE_PREFIX: u64 = 1 << 20;
/// A central directory larger than this is not a checkpoint's.
const MAX_DIRECTORY: u64 = 16 << 20;
/// Room read past a local header's name for its extra field (PyTorch pads to 64 bytes).
const LOCAL_EXTRA_SLACK: u64 = 1024;

/// Weight formats whose strings are fetched with Range requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightKind {
    Safetensors,
    Gguf,
    /// A PyTorch checkpoint: a zip with `data.pkl`, or a legacy pickle stream.
    Torch,
    /// A bare pickle.
    Pickle,
}

/// What to do with a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    Whole,
    Weights(WeightKind),
    Skip(SkipReason),
}

/// Extensions of formats that hold no text worth a download.
const BINARY_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "bmp", "ico", "tif", "tiff", "heic", "wav", "mp3", "flac",
    "ogg", "opus", "m4a", "mp4", "avi", "mov", "mkv", "webm", "zip", "gz", "tgz", "bz2", "xz",
    "zst", "7z", "tar", "rar", "lz4", "parquet", "arrow", "feather", "npy", "npz", "h5", "hdf5",
    "onnx", "tflite", "msgpack", "ot", "pb", "mlmodel", "model", "tfrecord", "lance", "pdf",
    "woff", "woff2", "ttf", "otf", "so", "dll", "exe", "pyc", "wasm", "jar", "class",
];

/// Decides from the tree entry alone.
pub fn plan(entry: &TreeEntry, max_file_size: u64) -> Plan {
    let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let weights = match extension.as_str() {
        "safetensors" => Some(WeightKind::Safetensors),
        "gguf" => Some(WeightKind::Gguf),
        "bin" | "pt" | "pth" | "ckpt" => Some(WeightKind::Torch),
        "pkl" | "pickle" => Some(WeightKind::Pickle),
        _ => None,
    };
    match weights {
        Some(kind) => Plan::Weights(kind),
        None if BINARY_EXTENSIONS.contains(&extension.as_str()) => Plan::Skip(SkipReason::Binary),
        None if entry.size > max_file_size => Plan::Skip(SkipReason::TooLarge),
        None => Plan::Whole,
    }
}

/// What fetching a file produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Fetched {
    /// Bytes to scan; `extract` names the part of a weight file they are.
    Blob {
        data: Vec<u8>,
        extract: Option<String>,
    },
    Skipped(SkipReason),
}

/// A file that could not be fetched or read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    Hub(HubError),
    /// The bytes are not what the file name says.
    Format(String),
}

impl From<HubError> for FileError {
    fn from(err: HubError) -> Self {
        FileError::Hub(err)
    }
}

impl From<ZipError> for FileError {
    fn from(err: ZipError) -> Self {
        FileError::Format(err.to_string())
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Hub(err) => err.fmt(f),
            FileError::Format(message) => f.write_str(message),
        }
    }
}

/// Random access to a file's bytes.
pub trait RangeRead {
    /// Bytes `start..end` (end exclusive), all of them or an error.
    fn read(&mut self, start: u64, end: u64) -> Result<Vec<u8>, FileError>;
}

/// A file on the Hub read with Range requests. After the first read it talks to where the
/// resolve URL redirected (the CDN), so later ranges cost one request, not two.
pub struct RemoteFile<'c> {
    client: &'c HubClient,
    url: Url,
}

impl<'c> RemoteFile<'c> {
    pub fn new(client: &'c HubClient, url: Url) -> Self {
        RemoteFile { client, url }
    }
}

impl RangeRead for RemoteFile<'_> {
    fn read(&mut self, start: u64, end: u64) -> Result<Vec<u8>, FileError> {
        let want = end.saturating_sub(start);
        let fetched = self
            .client
            .get_bytes(&self.url, Some(ByteRange::of(start, end)), want)?;
        if (fetched.bytes.len() as u64) < want {
            return Err(FileError::Format(format!(
                "short read: asked for bytes {start}-{end}, got {}",
                fetched.bytes.len()
            )));
        }
        self.url = fetched.url;
        Ok(fetched.bytes)
    }
}

/// Fetches what `plan` says from the file's resolve URL.
pub fn fetch(
    client: &HubClient,
    url: Url,
    entry: &TreeEntry,
    plan: Plan,
    max_file_size: u64,
) -> Result<Fetched, FileError> {
    match plan {
        Plan::Skip(reason) => Ok(Fetched::Skipped(reason)),
        Plan::Whole => whole(client, &url, max_file_size),
        Plan::Weights(kind) => extract(
            kind,
            &mut RemoteFile::new(client, url),
            entry.size,
            max_file_size,
        ),
    }
}

fn whole(client: &HubClient, url: &Url, max_file_size: u64) -> Result<Fetched, FileError> {
    let fetched = client.get_bytes(url, None, max_file_size)?;
    Ok(if !fetched.complete {
        Fetched::Skipped(SkipReason::TooLarge)
    } else if is_binary(&fetched.bytes) {
        Fetched::Skipped(SkipReason::Binary)
    } else {
        Fetched::Blob {
            data: fetched.bytes,
            extract: None,
        }
    })
}

/// Reads the string-bearing part of a weight file of `size` bytes, at most `limit` of it.
pub fn extract(
    kind: WeightKind,
    file: &mut dyn RangeRead,
    size: u64,
    limit: u64,
) -> Result<Fetched, FileError> {
    if size == 0 {
        return Ok(Fetched::Skipped(SkipReason::Binary));
    }
    match kind {
        WeightKind::Safetensors => safetensors_header(file, size, limit),
        WeightKind::Gguf => gguf_metadata(file, size, limit),
        WeightKind::Torch => torch_pickle(file, size, limit),
        WeightKind::Pickle => pickle_prefix(file, size, limit),
    }
}

fn blob(data: Vec<u8>, extract: impl Into<String>) -> Fetched {
    Fetched::Blob {
        data,
        extract: Some(extract.into()),
    }
}

/// `u64 LE length` + JSON header: returns the JSON.
fn safetensors_header(
    file: &mut dyn RangeRead,
    size: u64,
    limit: u64,
) -> Result<Fetched, FileError> {
    let mut data = file.read(0, size.min(SAFETENSORS_FIRST_READ))?;
    let Some(prefix) = data.get(..8) else {
        return Err(FileError::Format(
            "safetensors: shorter than 8 bytes".into(),
        ));
    };
    let header_len = u64::from_le_bytes(prefix.try_into().expect("8 bytes"));
    if header_len > limit {
        return Ok(Fetched::Skipped(SkipReason::TooLarge));
    }
    let end = header_len.saturating_add(8);
    if end > size {
        return Err(FileError::Format(format!(
            "safetensors: header length {header_len} runs past the file ({size} bytes)"
        )));
    }
    if (data.len() as u64) < end {
        let rest = file.read(data.len() as u64, end)?;
        data.extend(rest);
    }
    data.truncate(end as usize);
    data.drain(..8);
    Ok(blob(data, "safetensors-header"))
}

fn gguf_metadata(file: &mut dyn RangeRead, size: u64, limit: u64) -> Result<Fetched, FileError> {
    let data = file.read(0, size.min(limit).min(GGUF_PREFIX))?;
    if !data.starts_with(b"GGUF") {
        return Err(FileError::Format("gguf: no GGUF magic".into()));
    }
    Ok(blob(data, "gguf-metadata"))
}

/// A zip checkpoint's `data.pkl`, or the start of a legacy one.
fn torch_pickle(file: &mut dyn RangeRead, size: u64, limit: u64) -> Result<Fetched, FileError> {
    let tail_start = size.saturating_sub(zip::TAIL_LEN);
    let tail = Tail {
        start: tail_start,
        bytes: file.read(tail_start, size)?,
    };
    let prefix_limit = limit.min(PICKLE_PREFIX);
    match zip::locate_directory(&tail.bytes) {
        Some(at) => zip_pickle(file, &tail, at, size, limit),
        // A small legacy file is already in hand.
        None if tail.start == 0 => Ok(pickle(tail.bytes, prefix_limit)),
        None => pickle_prefix(file, size, prefix_limit),
    }
}

/// The last bytes of a file, already read.
struct Tail {
    start: u64,
    bytes: Vec<u8>,
}

impl Tail {
    /// Bytes `start..end`, from the tail when it holds them, else read.
    fn read(&self, file: &mut dyn RangeRead, start: u64, end: u64) -> Result<Vec<u8>, FileError> {
        let tail_end = self.start + self.bytes.len() as u64;
        if start >= self.start && end <= tail_end {
            let from = (start - self.start) as usize;
            return Ok(self.bytes[from..from + (end - start) as usize].to_vec());
        }
        file.read(start, end)
    }
}

fn zip_pickle(
    file: &mut dyn RangeRead,
    tail: &Tail,
    at: DirectoryAt,
    size: u64,
    limit: u64,
) -> Result<Fetched, FileError> {
    let (offset, length) = match at {
        DirectoryAt::Known { offset, size } => (offset, size),
        DirectoryAt::Zip64Record { offset } => {
            let record = tail.read(file, offset, offset + zip::ZIP64_EOCD_LEN as u64)?;
            zip::parse_zip64_record(&record)?
        }
    };
    if length > MAX_DIRECTORY || offset + length > size {
        return Err(FileError::Format(format!(
            "zip: central directory of {length} bytes at {offset} does not fit"
        )));
    }
    let members = zip::parse_directory(&tail.read(file, offset, offset + length)?)?;
    let Some(member) = zip::pickle_member(&members) else {
        return Ok(Fetched::Skipped(SkipReason::Binary));
    };
    if member.method != 0 {
        return Err(FileError::Format(format!(
            "zip: {} is compressed (method {}); only stored members are read",
            member.name, member.method
        )));
    }
    if member.compressed_size > limit {
        return Ok(Fetched::Skipped(SkipReason::TooLarge));
    }
    let start = member.local_header_offset;
    let guess = zip::LOCAL_LEN as u64 + member.name.len() as u64 + LOCAL_EXTRA_SLACK;
    let mut chunk = tail.read(
        file,
        start,
        (start + guess + member.compressed_size).min(size),
    )?;
    let header = zip::local_header_len(&chunk)?;
    let data_end = header + member.compressed_size;
    if (chunk.len() as u64) < data_end {
        let rest = tail.read(file, start + chunk.len() as u64, start + data_end)?;
        chunk.extend(rest);
    }
    let data = chunk[header as usize..data_end as usize].to_vec();
    Ok(blob(data, format!("zip:{}", member.name)))
}

/// The start of a pickle stream (which begins with the PROTO opcode, 0x80).
fn pickle_prefix(file: &mut dyn RangeRead, size: u64, limit: u64) -> Result<Fetched, FileError> {
    Ok(pickle(file.read(0, size.min(limit))?, limit))
}

fn pickle(mut data: Vec<u8>, limit: u64) -> Fetched {
    if data.first() != Some(&0x80) {
        return Fetched::Skipped(SkipReason::Binary);
    }
    data.truncate(limit as usize);
    blob(data, "pickle-prefix")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::hub::zip::build;

    /// An in-memory file that counts its reads.
    struct Local {
        bytes: Vec<u8>,
        reads: Vec<(u64, u64)>,
    }

    impl RangeRead for Local {
        fn read(&mut self, start: u64, end: u64) -> Result<Vec<u8>, FileError> {
            self.reads.push((start, end));
            Ok(self.bytes[start as usize..end as usize].to_vec())
        }
    }

    fn local(bytes: Vec<u8>) -> Local {
        Local {
            bytes,
            reads: Vec::new(),
        }
    }

    fn entry(path: &str, size: u64) -> TreeEntry {
        TreeEntry {
            kind: "file".into(),
            path: path.into(),
            size,
            lfs: None,
            xet_hash: None,
        }
    }

    fn safetensors(header: &str, tensor_bytes: usize) -> Vec<u8> {
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend(header.as_bytes());
        file.extend(vec![7u8; tensor_bytes]);
        file
    }

    #[test]
    fn plans() {
        let max = 1000;
        assert_eq!(plan(&entry("a/config.json", 10), max), Plan::Whole);
        assert_eq!(
            plan(&entry("big.jsonl", 5000), max),
            Plan::Skip(SkipReason::TooLarge)
        );
        assert_eq!(
            plan(&entry("img/x.PNG", 10), max),
            Plan::Skip(SkipReason::Binary)
        );
        assert_eq!(
            plan(&entry("model.safetensors", 1 << 40), max),
            Plan::Weights(WeightKind::Safetensors)
        );
        assert_eq!(
            plan(&entry("pytorch_model.bin", 5000), max),
            Plan::Weights(WeightKind::Torch)
        );
        assert_eq!(plan(&entry("Makefile", 10), max), Plan::Whole);
    }

    #[test]
    fn safetensors_small_header_is_one_read() {
        let header = r#"{"__metadata__":{"note":"hf_x"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let mut file = local(safetensors(header, 500_000));
        let size = file.bytes.len() as u64;
        let got = extract(WeightKind::Safetensors, &mut file, size, 1 << 20).unwrap();
        assert_eq!(got, blob(header.as_bytes().to_vec(), "safetensors-header"));
        assert_eq!(file.reads, [(0, SAFETENSORS_FIRST_READ)]);
    }

    #[test]
    fn safetensors_large_header_reads_the_rest() {
        let header = format!(r#"{{"__metadata__":{{"pad":"{}"}}}}"#, "x".repeat(150_000));
        let mut file = local(safetensors(&header, 1000));
        let size = file.bytes.len() as u64;
        let got = extract(WeightKind::Safetensors, &mut file, size, 1 << 20).unwrap();
        assert_eq!(got, blob(header.as_bytes().to_vec(), "safetensors-header"));
        assert_eq!(
            file.reads,
            [
                (0, SAFETENSORS_FIRST_READ),
                (SAFETENSORS_FIRST_READ, 8 + header.len() as u64)
            ]
        );
        // Over the limit: skipped, nothing more read.
        let mut file = local(safetensors(&header, 10));
        let got = extract(WeightKind::Safetensors, &mut file, size, 1000).unwrap();
        assert_eq!(got, Fetched::Skipped(SkipReason::TooLarge));
        assert_eq!(file.reads.len(), 1);
    }

    #[test]
    fn safetensors_lying_header_is_an_error() {
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.extend(b"{}");
        let size = bytes.len() as u64;
        assert_eq!(
            extract(WeightKind::Safetensors, &mut local(bytes), size, u64::MAX)
                .unwrap_err()
                .to_string(),
            format!(
                "safetensors: header length {} runs past the file (10 bytes)",
                u64::MAX
            )
        );
    }

    #[test]
    fn gguf_reads_a_prefix() {
        let mut bytes = b"GGUF\x03\x00\x00\x00".to_vec();
        bytes.extend(vec![b'k'; 3 << 20]);
        let size = bytes.len() as u64;
        let mut file = local(bytes);
        match extract(WeightKind::Gguf, &mut file, size, 25 << 20).unwrap() {
            Fetched::Blob { data, extract } => {
                assert_eq!(data.len() as u64, GGUF_PREFIX);
                assert_eq!(extract.as_deref(), Some("gguf-metadata"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn torch_zip_reads_tail_then_member() {
        let pickle = b"\x80\x02X\x05\x00\x00\x00hello.".to_vec();
        let tensors = vec![1u8; 200_000];
        let bytes = build::zip(
            &[("archive/data.pkl", &pickle), ("archive/data/0", &tensors)],
            true,
        );
        let size = bytes.len() as u64;
        let mut file = local(bytes);
        let got = extract(WeightKind::Torch, &mut file, size, 1 << 20).unwrap();
        assert_eq!(got, blob(pickle, "zip:archive/data.pkl"));
        assert_eq!(file.reads.len(), 2, "{:?}", file.reads);
        assert_eq!(file.reads[0], (size - zip::TAIL_LEN, size));
        let fetched: u64 = file.reads.iter().map(|(s, e)| e - s).sum();
        assert!(fetched < 70_000, "read {fetched} bytes");
    }

    #[test]
    fn small_torch_zip_is_one_read() {
        let bytes = build::zip(&[("archive/data.pkl", b"\x80\x02.")], false);
        let size = bytes.len() as u64;
        let mut file = local(bytes);
        let got = extract(WeightKind::Torch, &mut file, size, 1 << 20).unwrap();
        assert_eq!(got, blob(b"\x80\x02.".to_vec(), "zip:archive/data.pkl"));
        assert_eq!(file.reads, [(0, size)]);
    }

    #[test]
    fn legacy_torch_and_other_binaries() {
        let mut legacy = b"\x80\x02\x8a\x0alegacy".to_vec();
        legacy.extend(vec![0u8; 100]);
        let size = legacy.len() as u64;
        let mut file = local(legacy.clone());
        let got = extract(WeightKind::Torch, &mut file, size, 1 << 20).unwrap();
        assert_eq!(got, blob(legacy.clone(), "pickle-prefix"));
        assert_eq!(file.reads, [(0, size)], "a small file is read once");
        // A large one: the tail, then the start.
        legacy.extend(vec![0u8; 200_000]);
        let size = legacy.len() as u64;
        let mut file = local(legacy);
        match extract(WeightKind::Torch, &mut file, size, 1000).unwrap() {
            Fetched::Blob { data, .. } => assert_eq!(data.len(), 1000),
            other => panic!("{other:?}"),
        }
        assert_eq!(file.reads, [(size - zip::TAIL_LEN, size), (0, 1000)]);
        let other = vec![0x42u8; 100];
        let got = extract(WeightKind::Torch, &mut local(other), 100, 1 << 20).unwrap();
        assert_eq!(got, Fetched::Skipped(SkipReason::Binary));
    }
}
