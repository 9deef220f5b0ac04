//! AWS access keys: the STS GetCallerIdentity check, signed with [`super::sigv4`], and the
//! offline account-number decode of a key id.
//!
//! Why GetCallerIdentity: it is read-only, needs no IAM permission (it works even under an
//! explicit deny), and answers exactly what an incident responder asks: which account, which
//! user or role. It goes to the global endpoint, so the region is always `us-east-1`.

use std::time::SystemTime;

use serde_json::Value;

use super::sigv4::{canonical_query, sign_v4, SigV4Input, SigV4Key};
use super::{unknown_status, xml_text, SignedRequest, SignedVerdict, UtcTime};

/// The only host the AWS check contacts.
pub const STS_HOST: &str = "sts.amazonaws.com";

/// The error code that means "wrong secret for this key id". TruffleHog found that a second
/// request with the same key id and a different secret within about 5 s can fail with it
/// spuriously (`pkg/detectors/aws/access_keys/accesskey.go`): a framework that sees this code
/// for a key id it just tried should retry once after a pause before believing it (see
/// [`retry_before_trusting`]).
pub const SIGNATURE_MISMATCH: &str = "SignatureDoesNotMatch";

/// Whether a verdict is the [`SIGNATURE_MISMATCH`] case that deserves one retry after a pause
/// before it is recorded as dead.
pub fn retry_before_trusting(verdict: &SignedVerdict) -> bool {
    matches!(verdict, SignedVerdict::Dead(reason) if reason.starts_with(SIGNATURE_MISMATCH))
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

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

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
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "sts",
            amz_date: "20150830T123600Z",
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
    fn only_a_signature_mismatch_asks_for_a_retry() {
        let mismatch = r#"{"Error":{"Code":"SignatureDoesNotMatch","Message":"m"}}"#;
        let invalid = r#"{"Error":{"Code":"InvalidClientTokenId","Message":"m"}}"#;
        assert!(retry_before_trusting(&read_caller_identity(403, mismatch)));
        assert!(!retry_before_trusting(&read_caller_identity(403, invalid)));
        assert!(!retry_before_trusting(&read_caller_identity(503, mismatch)));
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
