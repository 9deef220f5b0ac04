//! The only place a validation request is sent, and its safety rules:
//!
//! - A request goes to the host its validator declared, over https, and nowhere else: the URL
//!   is checked against that host right before sending.
//! - Redirects are never followed (a 3xx is an unknown outcome), so a provider, or whoever
//!   answers in its place, cannot bounce the secret to another host.
//! - `LEAKHOUND_TEST_ENDPOINTS` (a testing aid, read from the environment only) maps a host to
//!   a loopback base URL; anything but 127.0.0.1, ::1 or localhost is refused at start.

use std::{collections::BTreeMap, io::Read, time::Duration};

use reqwest::{blocking::Client, redirect, Method, Url};

use super::spec::{HttpRequest, HttpResponse};

/// The environment variable that points providers at local fake servers in tests.
pub const TEST_ENDPOINTS_VAR: &str = "LEAKHOUND_TEST_ENDPOINTS";

/// Largest answer read from a provider; validation answers are small.
const MAX_BODY: u64 = 1 << 20;

/// Host → loopback base URL, from [`TEST_ENDPOINTS_VAR`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointOverrides {
    map: BTreeMap<String, Url>,
}

impl EndpointOverrides {
    /// Reads [`TEST_ENDPOINTS_VAR`]; an empty or unset variable means no override.
    pub fn from_env() -> Result<EndpointOverrides, String> {
        match std::env::var(TEST_ENDPOINTS_VAR) {
            Ok(text) => EndpointOverrides::parse(&text),
            Err(_) => Ok(EndpointOverrides::default()),
        }
    }

    /// Parses `host=http://127.0.0.1:PORT,other=http://[::1]:PORT`.
    pub fn parse(text: &str) -> Result<EndpointOverrides, String> {
        let mut map = BTreeMap::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (host, base) = entry.split_once('=').ok_or_else(|| {
                format!("{TEST_ENDPOINTS_VAR}: `{entry}` is not host=http://127.0.0.1:PORT")
            })?;
            let url = Url::parse(base.trim())
                .map_err(|e| format!("{TEST_ENDPOINTS_VAR}: `{base}`: {e}"))?;
            let loopback = matches!(
                url.host_str(),
                Some("127.0.0.1") | Some("[::1]") | Some("localhost")
            );
            if !loopback || !matches!(url.scheme(), "http" | "https") {
                return Err(format!(
                    "{TEST_ENDPOINTS_VAR}: `{base}` is not a loopback URL (only 127.0.0.1, ::1 \
                     and localhost are accepted)"
                ));
            }
            map.insert(host.trim().to_ascii_lowercase(), url);
        }
        Ok(EndpointOverrides { map })
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The URL a request really goes to: the override's base with the original path and
    /// query, or the original URL.
    fn target(&self, url: &Url) -> Url {
        let Some(base) = url.host_str().and_then(|host| self.map.get(host)) else {
            return url.clone();
        };
        let mut target = base.clone();
        let prefix = base.path().trim_end_matches('/');
        target.set_path(&format!("{prefix}{}", url.path()));
        target.set_query(url.query());
        target
    }
}

/// Why a request got no answer to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The request would have left the declared host or https: never sent.
    Refused(String),
    Timeout,
    Network(String),
}

/// A blocking client with no redirects and a timeout.
pub struct ValidatorClient {
    http: Client,
    overrides: EndpointOverrides,
}

impl ValidatorClient {
    pub fn new(timeout: Duration, overrides: EndpointOverrides) -> Result<ValidatorClient, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = Client::builder()
            .user_agent(concat!("leakhound/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(ValidatorClient { http, overrides })
    }

    /// Sends one request after checking it stays on its declared host over https.
    pub fn send(&self, request: &HttpRequest) -> Result<HttpResponse, SendError> {
        let url = Url::parse(&request.url)
            .map_err(|e| SendError::Refused(format!("invalid URL: {e}")))?;
        if url.scheme() != "https" || url.host_str() != Some(request.host.as_str()) {
            return Err(SendError::Refused(format!(
                "{} is not https on the declared host {}",
                url.origin().ascii_serialization(),
                request.host
            )));
        }
        let target = self.overrides.target(&url);
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|e| SendError::Refused(e.to_string()))?;
        let mut builder = self.http.request(method, target);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        response
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::TimedOut {
                    SendError::Timeout
                } else {
                    SendError::Network(e.to_string())
                }
            })?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn classify(error: reqwest::Error) -> SendError {
    if error.is_timeout() {
        SendError::Timeout
    } else {
        // The URL can carry the secret (Telegram puts it in the path): never print it.
        SendError::Network(error.without_url().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_accept_only_loopback() {
        let ok = EndpointOverrides::parse(
            "huggingface.co=http://127.0.0.1:8080, api.openai.com=http://localhost:9/base/",
        )
        .unwrap();
        let url = Url::parse("https://huggingface.co/api/whoami-v2?x=1").unwrap();
        assert_eq!(
            ok.target(&url).as_str(),
            "http://127.0.0.1:8080/api/whoami-v2?x=1"
        );
        let url = Url::parse("https://api.openai.com/v1/me").unwrap();
        assert_eq!(ok.target(&url).as_str(), "http://localhost:9/base/v1/me");
        let other = Url::parse("https://api.github.com/user").unwrap();
        assert_eq!(ok.target(&other), other);
        assert!(EndpointOverrides::parse("a=http://[::1]:80").is_ok());
        for bad in [
            "a=http://10.0.0.1:80",
            "a=http://example.com",
            "a=http://127.0.0.2:80",
            "a=ftp://127.0.0.1",
            "nonsense",
        ] {
            assert!(EndpointOverrides::parse(bad).is_err(), "{bad}");
        }
    }
}
