//! AWS access keys: a general SigV4 signer, the STS GetCallerIdentity check built on it, and the
//! offline account-number decode of a key id.
//!
//! Why GetCallerIdentity: it is read-only, needs no IAM permission (it works even under an
//! explicit deny), and answers exactly what an incident responder asks: which account, which
//! user or role. It goes to the global endpoint, so the region is always `us-east-1`.
//!
//! The signer is tested against the published aws-sig-v4-test-suite vectors (bottom of this
//! file); it covers what those vectors cover except path normalisation (`/a/../b`), which no
//! request of ours needs.

use std::time::SystemTime;

use serde_json::Value;

use super::{
    hex, hmac_sha256, sha256_hex, unknown_status, xml_text, SignedRequest, SignedVerdict, UtcTime,
};

/// The only host the AWS check contacts.
pub const STS_HOST: &str = "sts.amazonaws.com";

/// The error code that means "wrong secret for this key id". TruffleHog found that a second
/// request with the same key id and a different secret within about 5 s can fail with it
/// spuriously (`pkg/detectors/aws/access_keys/accesskey.go`): a framework that sees this code
/// for a key id it just tried should retry once after a pause before believing it.
pub const SIGNATURE_MISMATCH: &str = "SignatureDoesNotMatch";

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What SigV4 signs. Path and query are given decoded; the signer percent-encodes them.
#[derive(Debug, Clone, Copy)]
pub struct SigV4Input<'a> {
    pub method: &'a str,
    /// The absolute path, not yet percent-encoded (`/`, `/ሴ`). Not normalised.
    pub path: &'a str,
    /// Query parameters, not yet percent-encoded, in any order.
    pub query: &'a [(&'a str, &'a str)],
    /// Every header to sign, `Host` and `X-Amz-Date` included; names in any case.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

/// Who signs, for which region and service, at which time.
#[derive(Debug, Clone, Copy)]
pub struct SigV4Key<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`, the same value as the `X-Amz-Date` header.
    pub amz_date: &'a str,
}

/// Every intermediate of a signature, so tests can compare each step with the suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Signature {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    /// Lowercase hex.
    pub signature: String,
    /// The `Authorization` header value.
    pub authorization: String,
}

/// Signs a request with AWS Signature Version 4.
pub fn sign_v4(input: &SigV4Input<'_>, key: &SigV4Key<'_>) -> SigV4Signature {
    let (canonical_headers, signed_headers) = canonical_headers(input.headers);
    let canonical_request = [
        input.method,
        &uri_encode(input.path, false),
        &canonical_query(input.query),
        &canonical_headers,
        &signed_headers,
        &sha256_hex(input.payload),
    ]
    .join("\n");
    let date = key.amz_date.get(..8).unwrap_or(key.amz_date);
    let scope = format!("{date}/{}/{}/aws4_request", key.region, key.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        key.amz_date,
        sha256_hex(canonical_request.as_bytes())
    );
    let signing_key = signing_key(key.secret_access_key, date, key.region, key.service);
    let signature = hex(&hmac_sha256(&signing_key, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        key.access_key_id
    );
    SigV4Signature {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
        authorization,
    }
}

/// The derived signing key: HMAC chained over date, region, service and `aws4_request`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// SigV4's URI encoding: everything but `A-Za-z0-9-_.~` (and `/` in paths) as `%XX`, uppercase.
pub fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (b == b'/' && !encode_slash) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encoded `name=value` pairs sorted by name, then value, joined with `&`.
fn canonical_query(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    pairs.sort();
    let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join("&")
}

/// The canonical header block (each line ends in `\n`) and the `;`-joined signed header names.
/// Names are lowercased, values trimmed with inner whitespace runs collapsed, and repeated
/// names joined with `,` in their original order.
fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut sorted: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            (
                name.trim().to_ascii_lowercase(),
                value.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0)); // stable: repeated names keep their order
    for (name, value) in sorted {
        match lines.last_mut() {
            Some((last, joined)) if *last == name => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => lines.push((name, value)),
        }
    }
    let block: String = lines.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names: Vec<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();
    (block, names.join(";"))
}

/// `GET https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15`, signed for
/// `us-east-1`/`sts` over `host;x-amz-date` (plus `x-amz-security-token` for temporary keys).
pub fn caller_identity_request(
    access_key_id: &str,
    secret_access_key: &str,
    session_token: Option<&str>,
    now: SystemTime,
) -> SignedRequest {
    const QUERY: [(&str, &str); 2] = [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")];
    let amz_date = UtcTime::from_system_time(now).amz_date();
    let mut signed: Vec<(&str, &str)> = vec![("host", STS_HOST), ("x-amz-date", &amz_date)];
    if let Some(token) = session_token {
        signed.push(("x-amz-security-token", token));
    }
    let input = SigV4Input {
        method: "GET",
        path: "/",
        query: &QUERY,
        headers: &signed,
        payload: b"",
    };
    let key = SigV4Key {
        access_key_id,
        secret_access_key,
        region: "us-east-1",
        service: "sts",
        amz_date: &amz_date,
    };
    let signature = sign_v4(&input, &key);
    // Host is left to the HTTP client (it derives it from the URL); Accept is sent unsigned.
    let mut headers: Vec<(String, String)> = signed
        .iter()
        .filter(|(name, _)| *name != "host")
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    headers.push(("accept".into(), "application/json".into()));
    headers.push(("authorization".into(), signature.authorization));
    SignedRequest {
        method: "GET",
        url: format!("https://{STS_HOST}/?{}", canonical_query(&QUERY)),
        headers,
        body: None,
    }
}

/// Reads STS's answer: 200 with an identity is live, a 4xx with an authentication error code
/// is dead, everything else (429, 5xx, HTML, unknown codes, clock skew) is unknown.
pub fn read_caller_identity(status: u16, body: &str) -> SignedVerdict {
    match status {
        200 => match caller_identity(body) {
            Some(metadata) => SignedVerdict::Live(metadata),
            None => SignedVerdict::Unknown("HTTP 200 without a caller identity".into()),
        },
        400..=499 if status != 429 => read_error(status, body),
        _ => unknown_status(status),
    }
}

/// `account`, `arn` and `user_id` from the JSON or XML GetCallerIdentity answer.
fn caller_identity(body: &str) -> Option<Vec<(String, String)>> {
    let fields = [
        ("account", "Account"),
        ("arn", "Arn"),
        ("user_id", "UserId"),
    ];
    let metadata: Vec<(String, String)> = match serde_json::from_str::<Value>(body) {
        Ok(json) => {
            let result = &json["GetCallerIdentityResponse"]["GetCallerIdentityResult"];
            fields
                .iter()
                .filter_map(|(key, field)| {
                    Some((key.to_string(), result[field].as_str()?.to_string()))
                })
                .collect()
        }
        Err(_) if body.contains("<GetCallerIdentityResult>") => fields
            .iter()
            .filter_map(|(key, field)| Some((key.to_string(), xml_text(body, field)?.to_string())))
            .collect(),
        Err(_) => Vec::new(),
    };
    metadata
        .iter()
        .any(|(key, _)| key == "arn")
        .then_some(metadata)
}

/// A 4xx answer: dead only for the codes that reject the credentials themselves.
fn read_error(status: u16, body: &str) -> SignedVerdict {
    let Some((code, message)) = error_code(body) else {
        // A 403 from a proxy or firewall (often HTML) says nothing about the key.
        return SignedVerdict::Unknown(format!("HTTP {status} without an AWS error code"));
    };
    // Only the code is reported: messages can quote the request being signed.
    let meaning = match code.as_str() {
        // A clock off by more than 15 minutes is our problem, not the key's.
        SIGNATURE_MISMATCH if message.contains("Signature expired") => {
            return SignedVerdict::Unknown(format!("{code}: signature expired (clock skew)"));
        }
        SIGNATURE_MISMATCH => "wrong secret for this key id",
        "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidAccessKeyId" => {
            "unknown, deleted or deactivated key id"
        }
        "ExpiredToken" | "ExpiredTokenException" => "the session token has expired",
        "AccessDenied" | "AccessDeniedException" => "access denied to GetCallerIdentity",
        _ => return SignedVerdict::Unknown(format!("HTTP {status}, error code {code}")),
    };
    SignedVerdict::Dead(format!("{code}: {meaning}"))
}

/// The error code and message from STS's JSON (`Error.Code`, or `__type`) or XML error body.
fn error_code(body: &str) -> Option<(String, String)> {
    if let Ok(json) = serde_json::from_str::<Value>(body) {
        let message = json["Error"]["Message"]
            .as_str()
            .or(json["message"].as_str())
            .unwrap_or("");
        let code = json["Error"]["Code"]
            .as_str()
            .or_else(|| json["__type"].as_str().and_then(|t| t.rsplit('#').next()))?;
        return Some((code.to_string(), message.to_string()));
    }
    let code = xml_text(body, "Code")?;
    let message = xml_text(body, "Message").unwrap_or("");
    Some((code.to_string(), message.to_string()))
}

/// The AWS account number encoded in an `AKIA`/`ASIA` key id, decoded offline.
///
/// The 16 characters after the prefix are base32; the first 48 bits hold a marker bit, then
/// the account number in bits 46..7 (as decoded by TruffleHog `aws/utils.go` and Aidan Steele's
/// write-up). Key ids without the marker, such as the pre-2019 `AKIAI…`/`AKIAJ…` ones, do not
/// encode the account and give `None`.
pub fn account_from_key_id(key_id: &str) -> Option<u64> {
    let body = key_id
        .strip_prefix("AKIA")
        .or_else(|| key_id.strip_prefix("ASIA"))?;
    if body.len() != 16 {
        return None;
    }
    let mut bits: u64 = 0;
    for (i, c) in body.bytes().enumerate() {
        let value = base32_value(c)?;
        if i < 10 {
            bits = bits << 5 | u64::from(value); // 10 characters = 50 bits ⊇ the first 48
        }
    }
    let first48 = bits >> 2;
    if first48 >> 47 == 0 {
        return None;
    }
    Some((first48 & 0x7fff_ffff_ff80) >> 7)
}

/// RFC 4648 base32 alphabet value of an uppercase character.
fn base32_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    // The aws-sig-v4-test-suite's fixed inputs.
    const SUITE_KEY: SigV4Key<'static> = SigV4Key {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region: "us-east-1",
        service: "service",
        amz_date: "20150830T123600Z",
    };
    const HOST: (&str, &str) = ("Host", "example.amazonaws.com");
    const DATE: (&str, &str) = ("X-Amz-Date", "20150830T123600Z");
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const UNRESERVED: &str = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const SUITE_SESSION_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    /// One suite case: the request, then its `.creq`, the hash line of its `.sts`, and the
    /// signature of its `.authz`.
    struct Vector<'a> {
        input: SigV4Input<'a>,
        creq: String,
        sts_hash: &'a str,
        signed_headers: &'a str,
        signature: &'a str,
    }

    fn check(name: &str, v: Vector<'_>) {
        let got = sign_v4(&v.input, &SUITE_KEY);
        assert_eq!(got.canonical_request, v.creq, "{name}: canonical request");
        let sts = format!(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}",
            v.sts_hash
        );
        assert_eq!(got.string_to_sign, sts, "{name}: string to sign");
        let authz = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders={}, Signature={}",
            v.signed_headers, v.signature
        );
        assert_eq!(got.authorization, authz, "{name}: authorization");
    }

    fn creq(
        method: &str,
        path: &str,
        query: &str,
        headers: &str,
        signed: &str,
        hash: &str,
    ) -> String {
        format!("{method}\n{path}\n{query}\n{headers}\n{signed}\n{hash}")
    }

    const PLAIN_HEADERS: &str = "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n";

    #[test]
    fn suite_get_vanilla() {
        let input = SigV4Input {
            method: "GET",
            path: "/",
            query: &[],
            headers: &[HOST, DATE],
            payload: b"",
        };
        let creq = creq("GET", "/", "", PLAIN_HEADERS, "host;x-amz-date", EMPTY);
        check(
            "get-vanilla",
            Vector {
                input,
                creq,
                sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
                signed_headers: "host;x-amz-date",
                signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            },
        );
    }

    #[test]
    fn suite_get_vanilla_query_order_key_case() {
        let query = [("Param2", "value2"), ("Param1", "value1")];
        let input = SigV4Input {
            method: "GET",
            path: "/",
            query: &query,
            headers: &[HOST, DATE],
            payload: b"",
        };
        let creq = creq(
            "GET",
            "/",
            "Param1=value1&Param2=value2",
            PLAIN_HEADERS,
            "host;x-amz-date",
            EMPTY,
        );
        check(
            "get-vanilla-query-order-key-case",
            Vector {
                input,
                creq,
                sts_hash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
                signed_headers: "host;x-amz-date",
                signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            },
        );
    }

    #[test]
    fn suite_get_vanilla_query_unreserved() {
        let query = [(UNRESERVED, UNRESERVED)];
        let input = SigV4Input {
            method: "GET",
            path: "/",
            query: &query,
            headers: &[HOST, DATE],
            payload: b"",
        };
        let creq = creq(
            "GET",
            "/",
            &format!("{UNRESERVED}={UNRESERVED}"),
            PLAIN_HEADERS,
            "host;x-amz-date",
            EMPTY,
        );
        check(
            "get-vanilla-query-unreserved",
            Vector {
                input,
                creq,
                sts_hash: "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
                signed_headers: "host;x-amz-date",
                signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
            },
        );
    }

    #[test]
    fn suite_get_vanilla_utf8_query() {
        let query = [("ሴ", "bar")];
        let input = SigV4Input {
            method: "GET",
            path: "/",
            query: &query,
            headers: &[HOST, DATE],
            payload: b"",
        };
        let creq = creq(
            "GET",
            "/",
            "%E1%88%B4=bar",
            PLAIN_HEADERS,
            "host;x-amz-date",
            EMPTY,
        );
        check(
            "get-vanilla-utf8-query",
            Vector {
                input,
                creq,
                sts_hash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
                signed_headers: "host;x-amz-date",
                signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            },
        );
    }

    #[test]
    fn suite_get_utf8() {
        let input = SigV4Input {
            method: "GET",
            path: "/ሴ",
            query: &[],
            headers: &[HOST, DATE],
            payload: b"",
        };
        let creq = creq(
            "GET",
            "/%E1%88%B4",
            "",
            PLAIN_HEADERS,
            "host;x-amz-date",
            EMPTY,
        );
        check(
            "get-utf8",
            Vector {
                input,
                creq,
                sts_hash: "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
                signed_headers: "host;x-amz-date",
                signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            },
        );
    }

    #[test]
    fn suite_get_header_value_trim() {
        let headers = [
            HOST,
            ("My-Header1", " value1"),
            ("My-Header2", " \"a   b   c\""),
            DATE,
        ];
        let input = SigV4Input {
            method: "GET",
            path: "/",
            query: &[],
            headers: &headers,
            payload: b"",
        };
        let block = "host:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n\
                     x-amz-date:20150830T123600Z\n";
        let signed = "host;my-header1;my-header2;x-amz-date";
        check(
            "get-header-value-trim",
            Vector {
                input,
                creq: creq("GET", "/", "", block, signed, EMPTY),
                sts_hash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
                signed_headers: signed,
                signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            },
        );
    }

    #[test]
    fn suite_get_header_value_order() {
        // Repeated names keep their order and are joined with commas (creq hash from the suite).
        let headers = [
            HOST,
            ("My-Header1", "value4"),
            ("My-Header1", "value1"),
            ("My-Header1", "value3"),
            ("My-Header1", "value2"),
            DATE,
        ];
        let input = SigV4Input {
            method: "GET",
            path: "/",
            query: &[],
            headers: &headers,
            payload: b"",
        };
        let block = "host:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\n\
                     x-amz-date:20150830T123600Z\n";
        let signed = "host;my-header1;x-amz-date";
        check(
            "get-header-value-order",
            Vector {
                input,
                creq: creq("GET", "/", "", block, signed, EMPTY),
                sts_hash: "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
                signed_headers: signed,
                signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
            },
        );
    }

    #[test]
    fn suite_post_vanilla() {
        let input = SigV4Input {
            method: "POST",
            path: "/",
            query: &[],
            headers: &[HOST, DATE],
            payload: b"",
        };
        check(
            "post-vanilla",
            Vector {
                input,
                creq: creq("POST", "/", "", PLAIN_HEADERS, "host;x-amz-date", EMPTY),
                sts_hash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
                signed_headers: "host;x-amz-date",
                signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            },
        );
    }

    #[test]
    fn suite_post_x_www_form_urlencoded() {
        let headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            HOST,
            DATE,
        ];
        let input = SigV4Input {
            method: "POST",
            path: "/",
            query: &[],
            headers: &headers,
            payload: b"Param1=value1",
        };
        let block = "content-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n\
                     x-amz-date:20150830T123600Z\n";
        let signed = "content-type;host;x-amz-date";
        let body_hash = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
        check(
            "post-x-www-form-urlencoded",
            Vector {
                input,
                creq: creq("POST", "/", "", block, signed, body_hash),
                sts_hash: "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
                signed_headers: signed,
                signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            },
        );
    }

    #[test]
    fn suite_post_sts_header_before() {
        // A temporary key: the session token is a signed header.
        let headers = [HOST, DATE, ("X-Amz-Security-Token", SUITE_SESSION_TOKEN)];
        let input = SigV4Input {
            method: "POST",
            path: "/",
            query: &[],
            headers: &headers,
            payload: b"",
        };
        let block = format!("{PLAIN_HEADERS}x-amz-security-token:{SUITE_SESSION_TOKEN}\n");
        let signed = "host;x-amz-date;x-amz-security-token";
        check(
            "post-sts-header-before",
            Vector {
                input,
                creq: creq("POST", "/", "", &block, signed, EMPTY),
                sts_hash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
                signed_headers: signed,
                signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
            },
        );
    }

    #[test]
    fn derives_the_documented_iam_signing_key() {
        // AWS General Reference, "Examples of how to derive a signing key for Signature
        // Version 4": 20120215 / us-east-1 / iam.
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn encodes_like_sigv4() {
        assert_eq!(uri_encode("a b/c~d+e$é", false), "a%20b/c~d%2Be%24%C3%A9");
        assert_eq!(uri_encode("a/b=c", true), "a%2Fb%3Dc");
    }

    fn suite_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160) // 2015-08-30T12:36:00Z
    }

    fn header<'a>(request: &'a SignedRequest, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn caller_identity_request_is_signed_for_sts() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let request = caller_identity_request("AKIDEXAMPLE", secret, None, suite_time());
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.url,
            "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
        );
        assert_eq!(request.body, None);
        assert_eq!(header(&request, "x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(header(&request, "accept"), Some("application/json"));
        assert_eq!(header(&request, "host"), None);
        assert_eq!(header(&request, "x-amz-security-token"), None);

        // The same request through the general signer, step by step.
        let query = [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")];
        let headers = [("host", STS_HOST), ("x-amz-date", "20150830T123600Z")];
        let input = SigV4Input {
            method: "GET",
            path: "/",
            query: &query,
            headers: &headers,
            payload: b"",
        };
        let key = SigV4Key {
            service: "sts",
            ..SUITE_KEY
        };
        let expected = sign_v4(&input, &key);
        assert_eq!(
            expected.canonical_request,
            "GET\n/\nAction=GetCallerIdentity&Version=2011-06-15\nhost:sts.amazonaws.com\n\
             x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                .to_string()
                + EMPTY
        );
        assert_eq!(
            header(&request, "authorization"),
            Some(expected.authorization.as_str())
        );
        assert!(expected
            .authorization
            .contains("Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request"));
        assert!(!format!("{request:?}").contains(secret));
    }

    #[test]
    fn temporary_keys_sign_their_session_token() {
        let request = caller_identity_request("ASIAEXAMPLE", "secret", Some("TOKEN"), suite_time());
        assert_eq!(header(&request, "x-amz-security-token"), Some("TOKEN"));
        let authz = header(&request, "authorization").unwrap();
        assert!(
            authz.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
            "{authz}"
        );
    }

    #[test]
    fn reads_a_json_identity() {
        let body = r#"{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"123456789012",
            "Arn":"arn:aws:iam::123456789012:user/ci","UserId":"AIDAEXAMPLE"},
            "ResponseMetadata":{"RequestId":"r"}}}"#;
        assert_eq!(
            read_caller_identity(200, body),
            SignedVerdict::Live(vec![
                ("account".into(), "123456789012".into()),
                ("arn".into(), "arn:aws:iam::123456789012:user/ci".into()),
                ("user_id".into(), "AIDAEXAMPLE".into()),
            ])
        );
    }

    #[test]
    fn reads_an_xml_identity() {
        let body = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/dev/s</Arn>
    <UserId>AROAEXAMPLE:s</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
</GetCallerIdentityResponse>"#;
        let SignedVerdict::Live(metadata) = read_caller_identity(200, body) else {
            panic!()
        };
        assert_eq!(metadata[0], ("account".into(), "123456789012".into()));
        assert_eq!(
            metadata[1].1,
            "arn:aws:sts::123456789012:assumed-role/dev/s"
        );
    }

    #[test]
    fn unexpected_200s_are_unknown() {
        for body in [
            "<html><body>Welcome</body></html>",
            "{}",
            "",
            "{\"GetCallerIdentityResponse\":1}",
        ] {
            assert!(
                matches!(read_caller_identity(200, body), SignedVerdict::Unknown(_)),
                "{body}"
            );
        }
    }

    #[test]
    fn authentication_errors_are_dead() {
        let json = |code: &str| {
            format!(
                r#"{{"Error":{{"Code":"{code}","Message":"m","Type":"Sender"}},"RequestId":"r"}}"#
            )
        };
        for code in [
            "InvalidClientTokenId",
            "ExpiredToken",
            "SignatureDoesNotMatch",
            "AccessDenied",
        ] {
            let SignedVerdict::Dead(reason) = read_caller_identity(403, &json(code)) else {
                panic!("{code} should be dead")
            };
            assert!(reason.starts_with(code), "{reason}");
        }
        let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
                   <Message>The security token included in the request is invalid.</Message></Error>\
                   <RequestId>r</RequestId></ErrorResponse>";
        assert!(
            matches!(read_caller_identity(403, xml), SignedVerdict::Dead(r) if r.starts_with("InvalidClientTokenId"))
        );
    }

    #[test]
    fn other_failures_are_unknown() {
        let skew = r#"{"Error":{"Code":"SignatureDoesNotMatch","Message":"Signature expired: 20150830T123600Z is now earlier than 20240101T000000Z"}}"#;
        let throttled = r#"{"Error":{"Code":"Throttling","Message":"Rate exceeded"}}"#;
        let cases = [
            (403, skew),
            (400, throttled),
            (403, "<html><h1>403 Forbidden</h1></html>"),
            (429, ""),
            (500, ""),
            (503, "<html>busy</html>"),
            (302, ""),
        ];
        for (status, body) in cases {
            assert!(
                matches!(
                    read_caller_identity(status, body),
                    SignedVerdict::Unknown(_)
                ),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn errors_never_echo_the_message() {
        let body =
            r#"{"Error":{"Code":"SignatureDoesNotMatch","Message":"canonical string: SECRETISH"}}"#;
        assert!(!format!("{:?}", read_caller_identity(403, body)).contains("SECRETISH"));
    }

    /// Builds a key id around an account number: marker bit, account, 7 + 32 filler bits.
    fn synthetic_key_id(prefix: &str, account: u64) -> String {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let bits: u128 = (1 << 79) | u128::from(account) << 39 | 0x55 << 32 | 0xdead_beef;
        let body: String = (0..16)
            .rev()
            .map(|i| ALPHABET[(bits >> (i * 5)) as usize & 31] as char)
            .collect();
        format!("{prefix}{body}")
    }

    #[test]
    fn decodes_the_account_from_a_key_id() {
        let key_id = synthetic_key_id("AKIA", 123_456_789_012);
        assert_eq!(key_id.len(), 20);
        assert_eq!(account_from_key_id(&key_id), Some(123_456_789_012));
        assert_eq!(account_from_key_id(&synthetic_key_id("ASIA", 42)), Some(42));
        // The vector of Aidan Steele's write-up, reproduced by TruffleHog's tests.
        assert_eq!(
            account_from_key_id("ASIAY34FZKBOKMUTVV7A"),
            Some(609_629_065_308)
        );
    }

    #[test]
    fn refuses_key_ids_without_an_account() {
        for key_id in [
            "AKIAIOSFODNN7EXAMPLE", // legacy AKIAI…, AWS's documentation example
            "AKIAJ",
            "AKIAJAAAAAAAAAAAAAAA",
            "AKIDEXAMPLE",
            "AKIAY34FZKBOKMUTVV7",  // 15 characters
            "AKIAY34FZKBOKMUTVV71", // 1 is not base32
            "AKIAy34fzkbokmutvv7a", // lowercase
            "ABIAY34FZKBOKMUTVV7A", // other prefixes are not decoded
            "ASIAY34FZKBOKMUTVVé",
        ] {
            assert_eq!(account_from_key_id(key_id), None, "{key_id}");
        }
    }
}
