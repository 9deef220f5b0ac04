//! Fuzz the encoded extractor alone: any input must give Ok or a typed error, never a panic, a hang
//! or an allocation the input does not pay for.
#![no_main]

use leakhound::extract::{extract_one, Collect, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Collect::default();
    let _ = extract_one(Format::Text, data, &mut out);
});
