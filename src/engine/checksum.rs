//! Offline structural checks that a token format defines: a fake or mistyped token fails them,
//! so documentation placeholders and random look-alikes never reach a report.

use base64::Engine as _;

use crate::rules::Checksum;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether `secret` passes the check `kind`.
pub fn verify(kind: Checksum, secret: &[u8]) -> bool {
    match kind {
        Checksum::GithubCrc32 | Checksum::NpmCrc32 => crc32_base62_suffix(secret, 4),
        Checksum::JwtHeader => jwt_header_has_alg(secret),
    }
}

/// GitHub and npm tokens: `<prefix><body><6 base62 chars>`, where the last six are the CRC-32
/// (IEEE) of the body written in base62 and left-padded with `0`.
fn crc32_base62_suffix(secret: &[u8], prefix_len: usize) -> bool {
    if secret.len() < prefix_len + 7 {
        return false;
    }
    let (rest, suffix) = secret.split_at(secret.len() - 6);
    let body = &rest[prefix_len..];
    base62_fixed6(crc32fast::hash(body)) == suffix
}

fn base62_fixed6(mut value: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// A JWT's first segment must decode (base64url, no padding) to a JSON object with `alg`.
fn jwt_header_has_alg(secret: &[u8]) -> bool {
    let header = secret.split(|&b| b == b'.').next().unwrap_or_default();
    let Ok(decoded) = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.strip_suffix(b"=").unwrap_or(header))
    else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&decoded)
        .ok()
        .and_then(|v| v.get("alg").map(|alg| alg.is_string()))
        .unwrap_or(false)
}

/// Appends the CRC-32/base62 suffix to `prefix + body`: how tests make structurally valid
/// synthetic tokens.
pub fn with_crc32_base62_suffix(prefix: &str, body: &str) -> String {
    let suffix = base62_fixed6(crc32fast::hash(body.as_bytes()));
    format!("{prefix}{body}{}", String::from_utf8_lossy(&suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_checksum_roundtrip() {
        let token = with_crc32_base62_suffix("ghp_", "Zq3xL9vB2mN7kR4tY8wE1aS5dF6gH0");
        assert_eq!(token.len(), 40);
        assert!(verify(Checksum::GithubCrc32, token.as_bytes()));
        let mut broken = token.into_bytes();
        broken[10] = if broken[10] == b'a' { b'b' } else { b'a' };
        assert!(!verify(Checksum::GithubCrc32, &broken));
    }

    #[test]
    fn github_docs_placeholder_fails() {
        assert!(!verify(
            Checksum::GithubCrc32,
            b"gho_16C7e42F292c6912E7710c838347Ae178B4a"
        ));
    }

    #[test]
    fn jwt_header() {
        // {"alg":"HS256","typ":"JWT"}
        assert!(verify(
            Checksum::JwtHeader,
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2ln"
        ));
        // {"typ":"JWT"} has no alg.
        assert!(!verify(
            Checksum::JwtHeader,
            b"eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2ln"
        ));
        assert!(!verify(Checksum::JwtHeader, b"eyJnotbase64!!.x.y"));
    }
}
