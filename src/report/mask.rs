//! Masking: enough of a secret to recognise it, not enough to use it.

/// Shows the first fifth of the secret (at most 6 characters, so a token's prefix stays
/// readable) and replaces the rest with a fixed run of `*` that does not reveal the length.
/// A multi-line secret (a private key) is masked from its first line break on.
pub fn mask_secret(secret: &str) -> String {
    let first_line = secret.split(['\n', '\r']).next().unwrap_or_default();
    let total = secret.chars().count();
    let reveal = (total / 5).min(6).min(first_line.chars().count());
    let shown: String = secret.chars().take(reveal).collect();
    format!("{shown}********")
}

#[cfg(test)]
mod tests {
    use super::mask_secret;

    #[test]
    fn masks_most_of_the_secret() {
        let token = "hf_QmZ8rT2zLp4Xv9NbK3mYdWc7Hs6Fj1Ag5R";
        let masked = mask_secret(token);
        assert_eq!(masked, "hf_QmZ********");
        assert!(!masked.contains("Lp4Xv9"));
    }

    #[test]
    fn short_secrets_reveal_little() {
        assert_eq!(mask_secret("abcd"), "********");
        assert_eq!(mask_secret("hunter2hunter2"), "hu********");
    }

    #[test]
    fn multiline_secret() {
        let key = "-----BEGIN\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END";
        assert_eq!(mask_secret(key), "-----B********");
    }
}
