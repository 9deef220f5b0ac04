//! Fuzz the whole walk from a zip: the archive reader, the bomb guards, and every extractor its
//! members reach (nested archives, pickles, notebooks, decoded runs), recursively.
#![no_main]

use leakhound::{
    extract::{walk, ExtractConfig, ExtractError, Sink},
    source::{Blob, Provenance, SkipReason},
};
use libfuzzer_sys::fuzz_target;

struct Discard;

impl Sink for Discard {
    fn scan(&mut self, blob: &Blob) {
        std::hint::black_box(blob.data.len());
    }
    fn skip(&mut self, _: SkipReason) {}
    fn error(&mut self, _: &Provenance, _: &ExtractError) {}
}

fuzz_target!(|data: &[u8]| {
    let blob = Blob {
        data: data.to_vec(),
        provenance: Provenance::File {
            path: "fuzz.zip".into(),
        },
    };
    let config = ExtractConfig {
        scan_binaries: true,
        ..ExtractConfig::default()
    };
    walk(&config, &blob, &mut Discard);
});
