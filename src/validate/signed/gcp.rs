//! GCP service-account keys: sign an RS256 JWT with the leaked private key and exchange it at
//! Google's token endpoint (the OAuth 2.0 JWT bearer grant, RFC 7523).
//!
//! Why this check: a service-account key has no "whoami" endpoint; the token exchange is the
//! cheapest request that proves the key works. It mints a one-hour access token and changes
//! nothing; the token is never reported. The private key itself never leaves the machine, only
//! the signed JWT does, and only ever to `oauth2.googleapis.com`: a `token_uri` naming another
//! host is refused, since the file's content is attacker-controlled text.

use std::time::SystemTime;

use base64::{engine::general_purpose, Engine as _};
use ring::{rand::SystemRandom, signature};
use serde_json::{json, Value};

use super::{unix_seconds, unknown_status, SignedRequest, SignedVerdict};

/// The only host the GCP check contacts.
pub const TOKEN_HOST: &str = "oauth2.googleapis.com";
/// The token endpoint used when the JSON names none.
pub const TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The endpoint older key files name; sent to [`TOKEN_URI`] instead, which accepts the same
/// grant, so the JWT still only goes to [`TOKEN_HOST`].
const LEGACY_TOKEN_URI: &str = "https://accounts.google.com/o/oauth2/token";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google accepts assertions valid for at most an hour.
const LIFETIME_SECONDS: i64 = 3600;

/// The fields of a service-account JSON the exchange needs.
#[derive(Debug)]
struct ServiceAccount {
    client_email: String,
    private_key_pem: String,
    private_key_id: Option<String>,
    token_uri: String,
}

/// `POST https://oauth2.googleapis.com/token` with a freshly signed JWT assertion.
///
/// Errors (not a service account, missing fields, a key ring cannot use, a foreign
/// `token_uri`) name the problem, never the key.
pub fn token_request(service_account_json: &str, now: SystemTime) -> Result<SignedRequest, String> {
    let account = parse(service_account_json)?;
    let issued_at = unix_seconds(now);
    if issued_at <= 0 {
        return Err("the clock is before 1970".into());
    }
    let der = private_key_der(&account.private_key_pem)?;
    let assertion = signed_jwt(&account, &der, issued_at)?;
    Ok(SignedRequest {
        method: "POST",
        url: account.token_uri,
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        // Every character of both values is allowed unencoded in a form body.
        body: Some(format!("grant_type={GRANT_TYPE}&assertion={assertion}").into_bytes()),
    })
}

/// Reads the token endpoint's answer: an access token is live (reported without the token),
/// `invalid_grant`/`invalid_client`/`unauthorized_client` are dead, the rest unknown.
pub fn read_token_response(status: u16, body: &str) -> SignedVerdict {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match status {
        200 => match json["access_token"].as_str() {
            Some(token) if !token.is_empty() => SignedVerdict::Live(token_metadata(&json)),
            _ => SignedVerdict::Unknown("HTTP 200 without an access token".into()),
        },
        400 | 401 => read_error(status, &json),
        _ => unknown_status(status),
    }
}

/// `project_id`, `client_email` and `private_key_id` of a service-account JSON, where present:
/// the metadata to report whatever the check says (none of them is secret).
pub fn service_account_metadata(json: &str) -> Vec<(String, String)> {
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    ["project_id", "client_email", "private_key_id"]
        .iter()
        .filter_map(|field| Some((field.to_string(), value[field].as_str()?.to_string())))
        .collect()
}

fn parse(json: &str) -> Result<ServiceAccount, String> {
    let value: Value = serde_json::from_str(json).map_err(|_| "not a JSON object".to_string())?;
    if value["type"].as_str() != Some("service_account") {
        return Err("`type` is not \"service_account\"".into());
    }
    let field = |name: &str| match value[name].as_str() {
        Some(text) if !text.trim().is_empty() => Ok(text.to_string()),
        _ => Err(format!("missing `{name}`")),
    };
    let token_uri = match value["token_uri"].as_str() {
        Some(uri) => token_endpoint(uri)?,
        None => TOKEN_URI.to_string(),
    };
    Ok(ServiceAccount {
        client_email: field("client_email")?,
        private_key_pem: field("private_key")?,
        private_key_id: field("private_key_id").ok(),
        token_uri,
    })
}

/// The token endpoint to use: the file's `token_uri` if it is https on [`TOKEN_HOST`] (no port,
/// no user info), the current endpoint for the legacy one, an error otherwise.
fn token_endpoint(uri: &str) -> Result<String, String> {
    if uri == LEGACY_TOKEN_URI {
        return Ok(TOKEN_URI.to_string());
    }
    let refuse = || {
        Err(format!(
            "`token_uri` is not https://{TOKEN_HOST}/…: the key is only used with Google"
        ))
    };
    let Some(rest) = uri.strip_prefix("https://") else {
        return refuse();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if !authority.eq_ignore_ascii_case(TOKEN_HOST) {
        return refuse();
    }
    Ok(uri.to_string())
}

/// The DER bytes of a `-----BEGIN PRIVATE KEY-----` (PKCS#8) PEM block. Tolerates the key
/// being escaped twice (`\n` as two characters), as it is when pasted into an env variable.
fn private_key_der(pem: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let start = pem.find(BEGIN).map(|at| at + BEGIN.len());
    let end = pem.find(END);
    let (Some(start), Some(end)) = (start, end) else {
        return Err("`private_key` is not a PEM \"PRIVATE KEY\" (PKCS#8) block".into());
    };
    let body: String = pem
        .get(start..end)
        .unwrap_or("")
        .replace("\\n", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "`private_key` PEM is not valid base64".to_string())
}

/// `header.claims.signature`, each base64url without padding, signed RS256.
fn signed_jwt(account: &ServiceAccount, der: &[u8], issued_at: i64) -> Result<String, String> {
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = &account.private_key_id {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": account.client_email,
        "scope": SCOPE,
        "aud": account.token_uri,
        "iat": issued_at,
        "exp": issued_at + LIFETIME_SECONDS,
    });
    let b64 = |bytes: &[u8]| general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = sign_rs256(der, signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", b64(&signature)))
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
fn sign_rs256(pkcs8_der: &[u8], message: &[u8]) -> Result<Vec<u8>, String> {
    let key = signature::RsaKeyPair::from_pkcs8(pkcs8_der)
        .map_err(|rejected| format!("`private_key` is not a usable RSA key ({rejected})"))?;
    let mut out = vec![0; key.public().modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut out,
    )
    .map_err(|_| "RSA signing failed".to_string())?;
    Ok(out)
}

/// `token_type`, `expires_in` and `scope` of a token answer; never the token.
fn token_metadata(json: &Value) -> Vec<(String, String)> {
    ["token_type", "expires_in", "scope"]
        .iter()
        .filter_map(|field| {
            let value = match &json[field] {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                _ => return None,
            };
            Some((field.to_string(), value))
        })
        .collect()
}

/// A 400/401 OAuth error: dead when the grant or client is rejected, unless the reason is the
/// JWT's time window (our clock, not the key).
fn read_error(status: u16, json: &Value) -> SignedVerdict {
    let Some(error) = json["error"].as_str() else {
        return SignedVerdict::Unknown(format!("HTTP {status} without an OAuth error"));
    };
    let description = short(json["error_description"].as_str().unwrap_or(""));
    let reason = if description.is_empty() {
        error.to_string()
    } else {
        format!("{error}: {description}")
    };
    let clock = description.contains("timeframe") || description.contains("iat and exp");
    match error {
        "invalid_grant" if clock => SignedVerdict::Unknown(format!("{reason} (clock skew)")),
        "invalid_grant" | "invalid_client" | "unauthorized_client" => SignedVerdict::Dead(reason),
        _ => SignedVerdict::Unknown(reason),
    }
}

/// At most 200 printable characters of provider text.
fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair as _;
    use std::time::{Duration, UNIX_EPOCH};

    /// A synthetic key made for these tests only (see testdata/README.md).
    const TEST_KEY: &str = include_str!("testdata/synthetic-rsa-2048.pkcs8.pem");
    const EMAIL: &str = "scanner-test@example-project.iam.gserviceaccount.com";
    const NOW: u64 = 1_700_000_000;

    fn account_json(overrides: Value) -> String {
        let mut value = json!({
            "type": "service_account",
            "project_id": "example-project",
            "private_key_id": "0123456789abcdef0123456789abcdef01234567",
            "private_key": TEST_KEY,
            "client_email": EMAIL,
            "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        });
        for (key, field) in overrides.as_object().unwrap() {
            if field.is_null() {
                value.as_object_mut().unwrap().remove(key);
            } else {
                value[key] = field.clone();
            }
        }
        value.to_string()
    }

    fn request(json: &str) -> Result<SignedRequest, String> {
        token_request(json, UNIX_EPOCH + Duration::from_secs(NOW))
    }

    /// The JWT of a request's body, split into its decoded header, claims, signing input and
    /// signature.
    fn jwt_of(request: &SignedRequest) -> (Value, Value, String, Vec<u8>) {
        let body = String::from_utf8(request.body.clone().unwrap()).unwrap();
        let jwt = body
            .strip_prefix("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=")
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap();
        let header = serde_json::from_slice(&decode(parts[0])).unwrap();
        let claims = serde_json::from_slice(&decode(parts[1])).unwrap();
        (
            header,
            claims,
            format!("{}.{}", parts[0], parts[1]),
            decode(parts[2]),
        )
    }

    fn test_public_key() -> Vec<u8> {
        let der = private_key_der(TEST_KEY).unwrap();
        let pair = signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        pair.public_key().as_ref().to_vec()
    }

    #[test]
    fn builds_a_signed_jwt_bearer_request() {
        let request = request(&account_json(json!({}))).unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, "https://oauth2.googleapis.com/token");
        assert_eq!(
            request.headers,
            [(
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string()
            )]
        );

        let (header, claims, signing_input, sig) = jwt_of(&request);
        assert_eq!(
            header,
            json!({"alg": "RS256", "typ": "JWT", "kid": "0123456789abcdef0123456789abcdef01234567"})
        );
        assert_eq!(
            claims,
            json!({
                "iss": EMAIL,
                "scope": "https://www.googleapis.com/auth/cloud-platform",
                "aud": "https://oauth2.googleapis.com/token",
                "iat": NOW,
                "exp": NOW + 3600,
            })
        );
        let public = signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            test_public_key(),
        );
        assert_eq!(sig.len(), 256);
        public
            .verify(signing_input.as_bytes(), &sig)
            .expect("the JWT signature verifies");
        let tampered = signing_input.replacen('e', "f", 1);
        assert!(public.verify(tampered.as_bytes(), &sig).is_err());
    }

    #[test]
    fn defaults_and_legacy_token_uris_go_to_google() {
        let legacy = json!({"token_uri": "https://accounts.google.com/o/oauth2/token", "private_key_id": null});
        let missing = json!({"token_uri": null});
        for overrides in [legacy, missing] {
            let request = request(&account_json(overrides)).unwrap();
            assert_eq!(request.url, TOKEN_URI);
            let (header, claims, _, _) = jwt_of(&request);
            assert_eq!(claims["aud"], TOKEN_URI);
            assert!(header.get("kid").is_none() || header["kid"].is_string());
        }
    }

    #[test]
    fn accepts_a_twice_escaped_key() {
        let escaped = TEST_KEY.replace('\n', "\\n");
        assert!(request(&account_json(json!({"private_key": escaped}))).is_ok());
    }

    #[test]
    fn refuses_foreign_token_uris() {
        for uri in [
            "https://evil.example/token",
            "http://oauth2.googleapis.com/token",
            "https://oauth2.googleapis.com.evil.example/token",
            "https://oauth2.googleapis.com@evil.example/token",
            "https://oauth2.googleapis.com:8443/token",
            "https://evil.example/?https://oauth2.googleapis.com/token",
        ] {
            let error = request(&account_json(json!({"token_uri": uri}))).unwrap_err();
            assert!(error.contains("token_uri"), "{uri}: {error}");
        }
    }

    #[test]
    fn explains_malformed_accounts_without_the_key() {
        let key_line = TEST_KEY.lines().nth(3).unwrap();
        let cases = [
            ("{not json".to_string(), "JSON"),
            (account_json(json!({"type": "authorized_user"})), "type"),
            (account_json(json!({"type": null})), "type"),
            (account_json(json!({"client_email": null})), "client_email"),
            (account_json(json!({"private_key": ""})), "private_key"),
            (account_json(json!({"private_key": key_line})), "PEM"),
            (
                account_json(json!({"private_key": TEST_KEY.replace(key_line, "!!!!")})),
                "base64",
            ),
            (
                account_json(
                    json!({"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}),
                ),
                "RSA",
            ),
        ];
        for (json, expected) in cases {
            let error = request(&json).unwrap_err();
            assert!(error.contains(expected), "{expected}: {error}");
            assert!(!error.contains(key_line), "{error}");
        }
    }

    #[test]
    fn reports_account_metadata() {
        assert_eq!(
            service_account_metadata(&account_json(json!({}))),
            [
                ("project_id".to_string(), "example-project".to_string()),
                ("client_email".to_string(), EMAIL.to_string()),
                (
                    "private_key_id".to_string(),
                    "0123456789abcdef0123456789abcdef01234567".to_string()
                ),
            ]
        );
        assert!(service_account_metadata("nope").is_empty());
    }

    #[test]
    fn a_token_is_live_and_never_reported() {
        let body =
            r#"{"access_token":"ya29.SECRET-TOKEN","expires_in":3599,"token_type":"Bearer"}"#;
        let verdict = read_token_response(200, body);
        assert_eq!(
            verdict,
            SignedVerdict::Live(vec![
                ("token_type".into(), "Bearer".into()),
                ("expires_in".into(), "3599".into()),
            ])
        );
        assert!(!format!("{verdict:?}").contains("SECRET-TOKEN"));
    }

    #[test]
    fn rejected_grants_are_dead() {
        let body = r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#;
        assert_eq!(
            read_token_response(400, body),
            SignedVerdict::Dead("invalid_grant: Invalid JWT Signature.".into())
        );
        let body =
            r#"{"error":"invalid_client","error_description":"The OAuth client was disabled."}"#;
        assert!(
            matches!(read_token_response(401, body), SignedVerdict::Dead(r) if r.starts_with("invalid_client"))
        );
        let body = r#"{"error":"unauthorized_client"}"#;
        assert_eq!(
            read_token_response(400, body),
            SignedVerdict::Dead("unauthorized_client".into())
        );
    }

    #[test]
    fn everything_else_is_unknown() {
        let skew = r#"{"error":"invalid_grant","error_description":"Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."}"#;
        let cases = [
            (200, r#"{"token_type":"Bearer"}"#),
            (200, "<html>proxy</html>"),
            (400, skew),
            (400, r#"{"error":"invalid_scope"}"#),
            (400, "<html>bad</html>"),
            (403, "<html>forbidden</html>"),
            (429, ""),
            (500, ""),
        ];
        for (status, body) in cases {
            assert!(
                matches!(read_token_response(status, body), SignedVerdict::Unknown(_)),
                "{status} {body}"
            );
        }
    }
}
