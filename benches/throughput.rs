//! Throughput benchmark: `cargo bench --bench throughput`.
//!
//! Generates a deterministic corpus of source-like text (default 100 MiB; set
//! `LEAKHOUND_BENCH_MB`), with a realistic density of words such as key, token, secret and
//! password and a few planted secrets, then reports MB/s for:
//! - the engine alone (`Scanner::scan` over in-memory blobs), 1 and 2 threads;
//! - `scan` of a directory end to end (walk, read, scan, fold), 1 and 2 threads;
//! - each rule's regex cost inside the full engine, so an expensive rule is visible.
//!
//! Each figure is the best of three runs.

use std::{
    fs,
    path::Path,
    time::{Duration, Instant},
};

use leakhound::{
    engine::{checksum::with_crc32_base62_suffix, RuleCost, Scanner},
    pipeline::{scan_inputs, Input, ScanConfig},
    rules::RuleSet,
};
use rayon::prelude::*;

/// A small deterministic PRNG (xorshift64*), so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn alnum(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| A[self.below(A.len())] as char).collect()
    }
}

const IDENTS: &[&str] = &[
    "config", "value", "result", "request", "response", "handler", "buffer", "index", "count",
    "user", "name", "path", "data", "items", "client", "server", "session", "options", "params",
    "logger", "context", "state", "model", "tensor", "layer", "batch", "output", "input", "cache",
];
/// Words a secret scanner's keywords fire on: they appear in real code all the time.
const SENSITIVE: &[&str] = &[
    "token",
    "secret",
    "password",
    "api_key",
    "access_key",
    "tokenizer",
    "secret_name",
    "password_field",
    "auth_token",
    "private_key_path",
    "key",
    "passwd",
];
const TEMPLATES: &[&str] = &[
    "    let {a} = {b}.get(\"{c}\")?;",
    "    if {a}.len() > {n} {{ return Err(Error::new(\"{c} too long\")); }}",
    "def {a}({b}, {c}=None):",
    "    return self.{a}[{n}] + {b}",
    "import {a}.{b} as {c}",
    "{a}_{b} = os.environ.get(\"{C}\")",
    "  {a}: {n}",
    "// {a} the {b} before the {c} is ready ({n} retries)",
    "const {a} = require('{b}');",
    "    \"{a}\": \"{b}-{n}\",",
    "{A}_{B}={n}",
    "    for {a} in {b}.iter() {{ {c}.push({a}); }}",
];

fn line(rng: &mut Rng) -> String {
    let template = rng.pick(TEMPLATES);
    let sensitive = rng.below(100) < 12;
    let word = |rng: &mut Rng| {
        if sensitive && rng.below(3) == 0 {
            rng.pick(SENSITIVE).to_string()
        } else {
            rng.pick(IDENTS).to_string()
        }
    };
    let (a, b, c) = (word(rng), word(rng), word(rng));
    template
        .replace("{a}", &a)
        .replace("{b}", &b)
        .replace("{c}", &c)
        .replace("{A}", &a.to_uppercase())
        .replace("{B}", &b.to_uppercase())
        .replace("{C}", &c.to_uppercase())
        .replace("{n}", &rng.below(10_000).to_string())
        .replace("{{", "{")
        .replace("}}", "}")
}

fn planted_secret(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("HF_TOKEN = \"hf_{}\"", rng.alnum(34)),
        1 => format!(
            "GITHUB_TOKEN={}",
            with_crc32_base62_suffix("ghp_", &rng.alnum(30))
        ),
        2 => format!(
            "aws_access_key_id = AKIA{}",
            rng.alnum(16)
                .to_uppercase()
                .replace(['0', '1', '8', '9'], "Q")
        ),
        _ => format!("password = \"{}\"", rng.alnum(18)),
    }
}

/// Files of 2–64 KiB, about `total` bytes, with roughly one planted secret per MiB.
fn corpus(total: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x5EED_1EA4_0000_0001);
    let mut files = Vec::new();
    let mut size = 0;
    while size < total {
        let target = 2048 + rng.below(62 * 1024);
        let mut file = String::with_capacity(target + 128);
        while file.len() < target {
            if rng.below(20_000) == 0 {
                file.push_str(&planted_secret(&mut rng));
            } else {
                file.push_str(&line(&mut rng));
            }
            file.push('\n');
        }
        size += file.len();
        files.push(file.into_bytes());
    }
    files
}

fn best_of_three(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut found = 0;
    for _ in 0..3 {
        let start = Instant::now();
        found = f();
        best = best.min(start.elapsed());
    }
    (best, found)
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / time.as_secs_f64()
}

/// CPU time of the calling thread (Linux), so a figure stays meaningful when other work shares
/// the machine: wall time under contention says more about the neighbours than about us.
fn thread_cpu_time() -> Option<Duration> {
    let text = fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// The engine on the calling thread: (wall, CPU) time of the best of three runs.
fn engine_on_this_thread(scanner: &Scanner, files: &[Vec<u8>]) -> (Duration, Option<Duration>) {
    let mut best = (Duration::MAX, None);
    for _ in 0..3 {
        let cpu_start = thread_cpu_time();
        let start = Instant::now();
        let found: usize = files.iter().map(|f| scanner.scan(f).len()).sum();
        std::hint::black_box(found);
        let wall = start.elapsed();
        let cpu = cpu_start.zip(thread_cpu_time()).map(|(a, b)| b - a);
        if wall < best.0 {
            best = (wall, cpu);
        }
    }
    best
}

fn engine(scanner: &Scanner, files: &[Vec<u8>], threads: usize) -> (Duration, usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    best_of_three(|| pool.install(|| files.par_iter().map(|f| scanner.scan(f).len()).sum()))
}

fn end_to_end(scanner: &Scanner, dir: &Path, threads: usize) -> (Duration, usize) {
    let config = ScanConfig {
        threads,
        ..ScanConfig::default()
    };
    best_of_three(|| {
        let output = scan_inputs(scanner, &config, &[Input::Path(dir.to_path_buf())]);
        output.findings.iter().map(|f| f.locations.len()).sum()
    })
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run tiny then.
    let benching = std::env::args().any(|a| a == "--bench");
    let megabytes: usize = std::env::var("LEAKHOUND_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 100 } else { 1 });
    let rules = RuleSet::builtin().expect("built-in rules");
    let scanner = Scanner::new(&rules);
    let files = corpus(megabytes * 1024 * 1024);
    let bytes: usize = files.iter().map(Vec::len).sum();
    println!(
        "corpus: {} files, {:.1} MiB, {} rules",
        files.len(),
        bytes as f64 / 1048576.0,
        rules.len()
    );

    let (wall, cpu) = engine_on_this_thread(&scanner, &files);
    println!(
        "engine      1 thread, per CPU-second: {:8.1} MB/s  (wall {:.3}s, CPU {})",
        cpu.map_or(0.0, |cpu| mb_per_s(bytes, cpu)),
        wall.as_secs_f64(),
        cpu.map_or("n/a".to_string(), |c| format!("{:.3}s", c.as_secs_f64()))
    );
    for threads in [1, 2] {
        let (time, found) = engine(&scanner, &files, threads);
        println!(
            "engine      {threads} thread(s): {:8.1} MB/s  ({found} matches, {:.3}s)",
            mb_per_s(bytes, time),
            time.as_secs_f64()
        );
    }

    let dir = tempfile::tempdir().expect("tempdir");
    for (i, file) in files.iter().enumerate() {
        let sub = dir.path().join(format!("d{}", i % 64));
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join(format!("f{i}.rs")), file).unwrap();
    }
    for threads in [1, 2] {
        let (time, found) = end_to_end(&scanner, dir.path(), threads);
        println!(
            "end-to-end  {threads} thread(s): {:8.1} MB/s  ({found} locations, {:.3}s)",
            mb_per_s(bytes, time),
            time.as_secs_f64()
        );
    }

    profile_rules(&scanner, &files);
}

/// Each rule's regex and filter time inside the full engine (the keyword pass is shared and
/// not attributed), slowest first: an expensive rule shows at the top.
fn profile_rules(scanner: &Scanner, files: &[Vec<u8>]) {
    let bytes: usize = files.iter().map(Vec::len).sum();
    let mut profile = vec![RuleCost::default(); scanner.rule_count()];
    let started = Instant::now();
    for file in files {
        scanner.scan_profiled(file, &mut profile);
    }
    let total = started.elapsed();
    let attributed: Duration = profile.iter().map(|c| c.time).sum();
    let mut costs: Vec<(usize, &RuleCost)> = profile.iter().enumerate().collect();
    costs.sort_by_key(|(_, c)| std::cmp::Reverse(c.time));
    println!(
        "per-rule regex cost over {:.1} MiB: {:.1} ms of {:.1} ms total ({:.0}% outside the keyword pass); slowest 10:",
        bytes as f64 / 1048576.0,
        attributed.as_secs_f64() * 1000.0,
        total.as_secs_f64() * 1000.0,
        100.0 * attributed.as_secs_f64() / total.as_secs_f64()
    );
    for (index, cost) in costs.iter().take(10) {
        println!(
            "  {:<40} {:7.2} ms  {:6} windows  {:8.1} KiB",
            scanner.rule(*index).id,
            cost.time.as_secs_f64() * 1000.0,
            cost.windows,
            cost.bytes as f64 / 1024.0
        );
    }
}
