//! AWS Signature Version 4, the general signer behind the [`super::aws`] check.
//!
//! Why a module of its own: SigV4 is a protocol with its own published test suite
//! (aws-sig-v4-test-suite), and keeping it apart from STS keeps both short. It covers what those
//! vectors cover except path normalisation (`/a/../b`), which no request of ours needs.

use super::{hex, hmac_sha256, sha256_hex};

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
pub(crate) fn canonical_query(query: &[(&str, &str)]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
