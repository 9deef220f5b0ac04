//! Offline structural checks that a token format defines: a fake or mistyped token fails them,
//! so documentation placeholders and random look-alikes never reach a report.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::rules::Checksum;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Standard base64 that accepts missing padding and non-zero trailing bits, as hand-pasted
/// values often have them.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Whether `secret` passes the check `kind`.
pub fn verify(kind: Checksum, secret: &[u8]) -> bool {
    match kind {
        Checksum::GithubCrc32 | Checksum::NpmCrc32 => crc32_base62_suffix(secret, 4),
        Checksum::JwtHeader => jwt_header_has_alg(secret),
        Checksum::GitlabCrc32 => gitlab_routable_crc32(secret),
        Checksum::GrafanaCrc32 => grafana_crc32(secret),
        Checksum::Bech32 => bech32_valid(secret),
        Checksum::DiscordBotToken => discord_bot_id(secret),
        Checksum::BasicAuthBase64 => basic_auth_base64(secret),
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

/// GitLab routable tokens: `<prefix><base64url payload>[.<version>].<2 base36 length><7 base36
/// crc>`. The CRC-32 covers every character before it, prefix included.
fn gitlab_routable_crc32(secret: &[u8]) -> bool {
    let Some(dot) = secret.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let tail = &secret[dot + 1..];
    if tail.len() != 9 || !tail.iter().all(|b| BASE36.contains(b)) {
        return false;
    }
    let (checked, crc) = secret.split_at(secret.len() - 7);
    base36_fixed7(crc32fast::hash(checked)) == crc
}

fn base36_fixed7(mut value: u32) -> [u8; 7] {
    let mut out = [b'0'; 7];
    for slot in out.iter_mut().rev() {
        *slot = BASE36[(value % 36) as usize];
        value /= 36;
    }
    out
}

/// Grafana `glsa_<secret>_<checksum>`: the checksum is the hex of the little-endian bytes of
/// the CRC-32 of `glsa_<secret>` (Grafana `satokengen`).
fn grafana_crc32(secret: &[u8]) -> bool {
    let Some(sep) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let (key, sum) = (&secret[..sep], &secret[sep + 1..]);
    if sum.len() != 8 {
        return false;
    }
    let expected: Vec<u8> = crc32fast::hash(key)
        .to_le_bytes()
        .iter()
        .flat_map(|byte| [HEX[(byte >> 4) as usize], HEX[(byte & 15) as usize]])
        .collect();
    sum.eq_ignore_ascii_case(&expected)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A Bech32 string (BIP-173): `<hrp>1<data><6 checksum chars>`, one case throughout.
fn bech32_valid(secret: &[u8]) -> bool {
    if secret.iter().any(u8::is_ascii_lowercase) && secret.iter().any(u8::is_ascii_uppercase) {
        return false;
    }
    let lower = secret.to_ascii_lowercase();
    let Some(sep) = lower.iter().rposition(|&b| b == b'1') else {
        return false;
    };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 || !hrp.iter().all(|b| (33..=126).contains(b)) {
        return false;
    }
    let mut values: Vec<u8> = hrp.iter().map(|b| b >> 5).collect();
    values.push(0);
    values.extend(hrp.iter().map(|b| b & 31));
    for c in data {
        let Some(v) = BECH32_CHARSET.iter().position(|x| x == c) else {
            return false;
        };
        values.push(v as u8);
    }
    bech32_polymod(&values) == 1
}

fn bech32_polymod(values: &[u8]) -> u32 {
    const GENERATOR: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// A Discord bot token's first segment is the bot's user id, a 17 to 20 digit snowflake,
/// in base64 (standard or URL-safe alphabet, unpadded).
fn discord_bot_id(secret: &[u8]) -> bool {
    let id: Vec<u8> = secret
        .split(|&b| b == b'.')
        .next()
        .unwrap_or_default()
        .iter()
        .map(|&b| match b {
            b'-' => b'+',
            b'_' => b'/',
            b => b,
        })
        .collect();
    let Ok(decoded) = LENIENT_BASE64.decode(id) else {
        return false;
    };
    (17..=20).contains(&decoded.len())
        && decoded[0] != b'0'
        && decoded.iter().all(u8::is_ascii_digit)
}

/// Decoded text that marks a made-up Basic credential.
const BASIC_PLACEHOLDERS: &[&[u8]] = &[
    b"password",
    b"passw0rd",
    b"changeme",
    b"example",
    b"xxxx",
    b"placeholder",
    b"${",
    b"<",
];

/// Base64 of `user:password`: printable ASCII, a non-empty user, a password of at least three
/// characters that is not the user name again nor a placeholder.
fn basic_auth_base64(secret: &[u8]) -> bool {
    let Ok(decoded) = LENIENT_BASE64.decode(secret) else {
        return false;
    };
    if !decoded.iter().all(|b| (0x20..0x7f).contains(b)) {
        return false;
    }
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
    let lower = pass.to_ascii_lowercase();
    !user.is_empty()
        && pass.len() >= 3
        && user != pass
        && !BASIC_PLACEHOLDERS
            .iter()
            .any(|p| lower.windows(p.len()).any(|w| w == *p))
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

/// Appends the GitLab routable-token CRC (7 lowercase base36 characters) to `checksummable`:
/// how tests make structurally valid synthetic tokens.
pub fn with_gitlab_crc32(checksummable: &str) -> String {
    let crc = base36_fixed7(crc32fast::hash(checksummable.as_bytes()));
    format!("{checksummable}{}", String::from_utf8_lossy(&crc))
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

    #[test]
    fn gitlab_routable_checksum() {
        // Computed independently (Python zlib.crc32, base36) for a synthetic payload.
        assert!(verify(
            Checksum::GitlabCrc32,
            b"glpat-Qm2xT7vLp9RwZ4nK8sB3yH6dF1gJ5cVt.01.0w0enh8rp"
        ));
        let token = with_gitlab_crc32("glpat-Xk4Lq8Wz2Tn7Vb5Rm1Hs9Pd3Fg6Jy0Ce.01.0w");
        assert!(verify(Checksum::GitlabCrc32, token.as_bytes()));
        let mut broken = token.clone().into_bytes();
        broken[8] = if broken[8] == b'a' { b'b' } else { b'a' };
        assert!(!verify(Checksum::GitlabCrc32, &broken));
        // A legacy 20-character token has no routable tail.
        assert!(!verify(
            Checksum::GitlabCrc32,
            b"glpat-Qm2xT7vLp9RwZ4nK8sB3"
        ));
        let runner = with_gitlab_crc32("glrt-t1_Qm2xT7vLp9RwZ4nK8sB3yH6dF1gJ5cVt.0w");
        assert!(verify(Checksum::GitlabCrc32, runner.as_bytes()));
    }

    #[test]
    fn grafana_checksum() {
        // The known-invalid test key from Grafana's own satokengen tests.
        assert!(verify(
            Checksum::GrafanaCrc32,
            b"glsa_iNValIdinValiDinvalidinvalidinva_5b582697"
        ));
        assert!(!verify(
            Checksum::GrafanaCrc32,
            b"glsa_iNValIdinValiDinvalidinvalidinva_5b582698"
        ));
        assert!(!verify(Checksum::GrafanaCrc32, b"glsa_nochecksum"));
    }

    #[test]
    fn bech32_vectors() {
        // BIP-173 test vectors.
        assert!(verify(Checksum::Bech32, b"A12UEL5L"));
        assert!(verify(Checksum::Bech32, b"a12uel5l"));
        assert!(verify(
            Checksum::Bech32,
            b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"
        ));
        assert!(!verify(Checksum::Bech32, b"li1dgmt3"));
        assert!(!verify(Checksum::Bech32, b"10a06t8"));
        assert!(!verify(Checksum::Bech32, b"A12UEl5L"));
        assert!(!verify(Checksum::Bech32, b"a12uel5m"));
    }

    #[test]
    fn discord_bot_token_id() {
        // base64("1109424728392847360") = MTEwOTQyNDcyODM5Mjg0NzM2MA
        assert!(verify(
            Checksum::DiscordBotToken,
            b"MTEwOTQyNDcyODM5Mjg0NzM2MA.GkVb3x.q8ZrT2wLm5NcY7pXs1DfH9jKa4Ee6BgUiOvRt"
        ));
        // base64("hello world, not an id")
        assert!(!verify(
            Checksum::DiscordBotToken,
            b"aGVsbG8gd29ybGQsIG5vdCBhbiBpZA.GkVb3x.q8ZrT2wLm5NcY7pXs1DfH9jKa4Ee6BgUiOvRt"
        ));
    }

    #[test]
    fn basic_auth() {
        // deploy:Zq8rT2zLp4Xv
        assert!(verify(
            Checksum::BasicAuthBase64,
            b"ZGVwbG95OlpxOHJUMnpMcDRYdg=="
        ));
        assert!(verify(
            Checksum::BasicAuthBase64,
            b"ZGVwbG95OlpxOHJUMnpMcDRYdg"
        ));
        // user:password
        assert!(!verify(Checksum::BasicAuthBase64, b"dXNlcjpwYXNzd29yZA=="));
        // no colon
        assert!(!verify(
            Checksum::BasicAuthBase64,
            b"ZGVwbG95WnE4clQyekxwNFh2"
        ));
        // binary (the start of a PNG)
        assert!(!verify(
            Checksum::BasicAuthBase64,
            b"iVBORw0KGgoAAAANSUhEUgAA"
        ));
    }
}
