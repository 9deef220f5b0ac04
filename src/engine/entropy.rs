//! Shannon entropy, the randomness measure that separates a token from a word.

/// Shannon entropy of `data` in bits per byte (0 for empty input, at most 8).
pub fn shannon(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::shannon;

    #[test]
    fn known_values() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"ab") - 1.0).abs() < 1e-9);
        assert!((shannon(b"abcd") - 2.0).abs() < 1e-9);
        // A random-looking base62 token sits well above 4 bits per byte.
        assert!(shannon(b"hf_QmZ8rT2zLp4Xv9NbK3mYdWc7Hs6Fj1Ag5R") > 4.5);
    }
}
