//! Azure Storage account keys: list the account's blob containers with a SharedKey signature.
//!
//! Why this check: "List Containers" is a read on the account itself, needs nothing but the key,
//! and the answer shows what the key opens. Only the first page's names are read; no blob is
//! touched. The request goes to `<account>.blob.core.windows.net`, so the account name is
//! checked against Azure's own rule (3–24 lowercase letters and digits) before it becomes a host.

use std::time::SystemTime;

use base64::{engine::general_purpose, Engine as _};

use super::{
    hmac_sha256, unknown_status, xml_text, xml_texts, SignedRequest, SignedVerdict, UtcTime,
};

/// The REST version the request is signed for.
pub const API_VERSION: &str = "2023-11-03";
/// How many container names a live verdict lists.
const NAMES_REPORTED: usize = 5;

/// `GET https://<account>.blob.core.windows.net/?comp=list`, signed with SharedKey.
///
/// Errors name the bad input (account name, key encoding), never the key.
pub fn list_containers_request(
    account: &str,
    account_key_base64: &str,
    now: SystemTime,
) -> Result<SignedRequest, String> {
    check_account(account)?;
    let key = general_purpose::STANDARD
        .decode(account_key_base64.trim())
        .ok()
        .filter(|key| !key.is_empty())
        .ok_or("the account key is not valid base64")?;
    let date = UtcTime::from_system_time(now).rfc1123();
    let signature = general_purpose::STANDARD
        .encode(hmac_sha256(&key, string_to_sign(account, &date).as_bytes()));
    Ok(SignedRequest {
        method: "GET",
        url: format!("https://{account}.blob.core.windows.net/?comp=list"),
        headers: vec![
            ("x-ms-date".into(), date),
            ("x-ms-version".into(), API_VERSION.into()),
            (
                "authorization".into(),
                format!("SharedKey {account}:{signature}"),
            ),
        ],
        body: None,
    })
}

/// The SharedKey string to sign for the listing: the verb, eleven empty standard headers
/// (Content-Encoding … Range), the `x-ms-*` headers, then the canonicalized resource.
pub fn string_to_sign(account: &str, date: &str) -> String {
    format!(
        "GET\n{}x-ms-date:{date}\nx-ms-version:{API_VERSION}\n/{account}/\ncomp:list",
        "\n".repeat(11)
    )
}

/// Azure's storage account name rule; it also keeps the name a single DNS label.
fn check_account(account: &str) -> Result<(), String> {
    let valid = (3..=24).contains(&account.len())
        && account
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err("the account name is not 3-24 lowercase letters and digits".into())
    }
}

/// Reads the listing: an `EnumerationResults` body is live (container count and first names),
/// `AuthenticationFailed` or a disabled account is dead, anything else unknown.
pub fn read_list_containers(status: u16, body: &str) -> SignedVerdict {
    match status {
        200 if body.contains("<EnumerationResults") => SignedVerdict::Live(containers(body)),
        200 => SignedVerdict::Unknown("HTTP 200 without a container listing".into()),
        404 => SignedVerdict::Unknown("account not found (HTTP 404)".into()),
        400..=499 if status != 429 => read_error(status, body),
        _ => unknown_status(status),
    }
}

/// `containers` (the count, `N+` when the listing continues on another page) and
/// `first_containers` (up to five names).
fn containers(body: &str) -> Vec<(String, String)> {
    let names: Vec<&str> = xml_texts(body, "Container")
        .filter_map(|c| xml_text(c, "Name"))
        .collect();
    let more = xml_text(body, "NextMarker").is_some_and(|marker| !marker.is_empty());
    let count = format!("{}{}", names.len(), if more { "+" } else { "" });
    let mut metadata = vec![("containers".to_string(), count)];
    if !names.is_empty() {
        let first: Vec<&str> = names.into_iter().take(NAMES_REPORTED).collect();
        metadata.push(("first_containers".to_string(), first.join(", ")));
    }
    metadata
}

/// A 4xx with a storage error code. Only the code is reported: the detail of an
/// `AuthenticationFailed` quotes the string that was signed.
fn read_error(status: u16, body: &str) -> SignedVerdict {
    let Some(code) = xml_text(body, "Code") else {
        return SignedVerdict::Unknown(format!("HTTP {status} without a storage error code"));
    };
    let detail = xml_text(body, "AuthenticationErrorDetail").unwrap_or("");
    match code {
        // x-ms-date more than 15 minutes off is our clock, not the key.
        "AuthenticationFailed" if detail.contains("Request date header") => {
            SignedVerdict::Unknown(format!("{code}: request date rejected (clock skew)"))
        }
        "AuthenticationFailed" => {
            SignedVerdict::Dead(format!("{code}: the account key is wrong or rotated"))
        }
        "AccountIsDisabled" => {
            SignedVerdict::Dead(format!("{code}: the storage account is disabled"))
        }
        // AuthorizationFailure and the like: network rules or permissions, key possibly valid.
        _ => SignedVerdict::Unknown(format!("HTTP {status}, error code {code}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// A synthetic key: base64 of the bytes 0, 1, …, 63.
    const KEY: &str =
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";

    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160) // Sun, 30 Aug 2015 12:36:00 GMT
    }

    #[test]
    fn builds_the_string_to_sign() {
        assert_eq!(
            string_to_sign("leakhoundtest", "Sun, 30 Aug 2015 12:36:00 GMT"),
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 30 Aug 2015 12:36:00 GMT\n\
             x-ms-version:2023-11-03\n/leakhoundtest/\ncomp:list"
        );
    }

    #[test]
    fn signs_like_an_independent_hmac() {
        // Computed outside this crate:
        //   printf 'GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 30 Aug 2015 12:36:00 GMT\nx-ms-version:2023-11-03\n/leakhoundtest/\ncomp:list' > sts.txt
        //   openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…3f -binary sts.txt | base64
        let request = list_containers_request("leakhoundtest", KEY, at()).unwrap();
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.url,
            "https://leakhoundtest.blob.core.windows.net/?comp=list"
        );
        assert_eq!(request.body, None);
        assert_eq!(
            request.headers,
            [
                (
                    "x-ms-date".to_string(),
                    "Sun, 30 Aug 2015 12:36:00 GMT".to_string()
                ),
                ("x-ms-version".to_string(), "2023-11-03".to_string()),
                (
                    "authorization".to_string(),
                    "SharedKey leakhoundtest:/2FH0A+i28PmGyB81GRrkES6S8xvQ9lxPJjMiV77l00="
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn refuses_bad_names_and_keys_without_echoing_them() {
        let too_long = "a".repeat(25);
        for account in [
            "ab",
            too_long.as_str(),
            "Upper",
            "has-dash",
            "evil.example",
            "a/b",
            "",
        ] {
            let error = list_containers_request(account, KEY, at()).unwrap_err();
            assert!(error.contains("account name"), "{account}: {error}");
        }
        for key in ["not base64!", "", "AAECAwQ"] {
            let error = list_containers_request("leakhoundtest", key, at()).unwrap_err();
            assert!(error.contains("base64"), "{error}");
            assert!(key.is_empty() || !error.contains(key));
        }
    }

    #[test]
    fn a_listing_is_live() {
        let body = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults \
            ServiceEndpoint=\"https://leakhoundtest.blob.core.windows.net/\"><Containers>\
            <Container><Name>backups</Name><Properties><Etag>0x1</Etag></Properties></Container>\
            <Container><Name>logs</Name><Properties /></Container>\
            </Containers><NextMarker /></EnumerationResults>";
        assert_eq!(
            read_list_containers(200, body),
            SignedVerdict::Live(vec![
                ("containers".into(), "2".into()),
                ("first_containers".into(), "backups, logs".into()),
            ])
        );
    }

    #[test]
    fn long_and_empty_listings() {
        let many: String = (0..7)
            .map(|i| format!("<Container><Name>c{i}</Name></Container>"))
            .collect();
        let body = format!("<EnumerationResults><Containers>{many}</Containers><NextMarker>m</NextMarker></EnumerationResults>");
        assert_eq!(
            read_list_containers(200, &body),
            SignedVerdict::Live(vec![
                ("containers".into(), "7+".into()),
                ("first_containers".into(), "c0, c1, c2, c3, c4".into()),
            ])
        );
        let empty = "<EnumerationResults><Containers /><NextMarker /></EnumerationResults>";
        assert_eq!(
            read_list_containers(200, empty),
            SignedVerdict::Live(vec![("containers".into(), "0".into())])
        );
    }

    fn error_body(code: &str, detail: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>m</Message>\
             <AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail></Error>"
        )
    }

    #[test]
    fn a_rejected_key_is_dead() {
        let body = error_body(
            "AuthenticationFailed",
            "The MAC signature found in the HTTP request 'SIGNATURE' is not the same as any computed signature.",
        );
        let verdict = read_list_containers(403, &body);
        assert!(
            matches!(&verdict, SignedVerdict::Dead(r) if r.starts_with("AuthenticationFailed"))
        );
        assert!(!format!("{verdict:?}").contains("SIGNATURE"));
        let disabled = error_body("AccountIsDisabled", "");
        assert!(matches!(
            read_list_containers(403, &disabled),
            SignedVerdict::Dead(_)
        ));
    }

    #[test]
    fn everything_else_is_unknown() {
        let skew = error_body(
            "AuthenticationFailed",
            "Request date header too old: 'Sun, 30 Aug 2015 12:36:00 GMT'",
        );
        let firewall = error_body("AuthorizationFailure", "");
        let cases = [
            (200, "<html>captive portal</html>".to_string()),
            (403, skew),
            (403, firewall),
            (403, "<html>403 Forbidden</html>".to_string()),
            (404, error_body("ResourceNotFound", "")),
            (429, String::new()),
            (503, error_body("ServerBusy", "")),
        ];
        for (status, body) in cases {
            assert!(
                matches!(
                    read_list_containers(status, &body),
                    SignedVerdict::Unknown(_)
                ),
                "{status} {body}"
            );
        }
    }
}
