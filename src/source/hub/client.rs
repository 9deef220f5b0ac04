//! The Hub's HTTP client, and the only place a request is sent.
//!
//! - One blocking `reqwest` client, so connections are pooled and reused across threads.
//! - The token goes only to the endpoint's origin (scheme, host, port). Redirects are followed
//!   here, by hand, one hop at a time, so a download redirected to a CDN or to another port
//!   never carries `Authorization`.
//! - 429, 408 and 5xx are retried with exponential backoff. A 429 waits what the server says:
//!   the `RateLimit` header's `t` when `r=0`, else `Retry-After` (seconds). A response that
//!   says a bucket is exhausted (`r=0`) pauses further requests to that bucket (api,
//!   resolvers, pages) for `t` seconds, so the sweep waits instead of collecting 429s.
//! - Every request is counted, retries and redirect hops included.
//! - Errors are typed ([`HubError`]) with the status and the Hub's `X-Error-Code` and
//!   `X-Error-Message`, because callers branch on them (a gated repo is skipped, a missing
//!   file is one error).

use std::{
    collections::HashMap,
    fmt,
    io::Read,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    thread,
    time::{Duration, Instant},
};

use reqwest::{
    blocking::{Client, Response},
    header::{HeaderMap, LOCATION, RANGE},
    redirect, StatusCode, Url,
};
use serde::de::DeserializeOwned;

pub use super::error::{Denial, HubError};
use super::{
    error::{status_error, transport_message},
    headers::{bucket_of, exhausted_reset, next_link, retry_after, same_origin, shown_url},
};

/// Hops followed before a redirect chain is called a loop.
const MAX_REDIRECTS: usize = 5;
/// Largest JSON document accepted from the API (a listing page, a tree page, a discussion).
const MAX_JSON_BYTES: u64 = 64 << 20;

/// A Hub access token. Never printed: `Debug` hides it and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Accepts a token with surrounding whitespace (a token file's trailing newline); refuses
    /// an empty one or one with inner whitespace or control characters.
    pub fn new(raw: &str) -> Option<Token> {
        let token = raw.trim();
        let printable = token.bytes().all(|b| b.is_ascii_graphic());
        (!token.is_empty() && printable).then(|| Token(token.to_string()))
    }

    /// The token itself, for a request header or a git credential.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(****)")
    }
}

/// How failed requests are retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// First backoff; doubled on each retry.
    pub base_delay: Duration,
    /// Cap on the backoff.
    pub max_backoff: Duration,
    /// Cap on a wait the server asks for (`Retry-After`, `RateLimit` `t`).
    pub max_server_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            // The Hub's windows are five minutes long.
            max_server_wait: Duration::from_secs(310),
        }
    }
}

/// Everything the client needs.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `https://huggingface.co` or `HF_ENDPOINT`, without a trailing slash.
    pub endpoint: Url,
    pub token: Option<Token>,
    /// Limit on one request, body included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Say on stderr when a rate limit makes the sweep wait.
    pub announce_waits: bool,
}

/// An inclusive byte range, as in `Range: bytes=start-end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    /// `start..end`, end exclusive (callers think in slices).
    pub fn of(start: u64, end: u64) -> ByteRange {
        ByteRange {
            start,
            end: end.max(start + 1) - 1,
        }
    }

    pub fn count(&self) -> u64 {
        self.end - self.start + 1
    }

    fn header(&self) -> String {
        format!("bytes={}-{}", self.start, self.end)
    }
}

/// A body that was read.
#[derive(Debug)]
pub struct Body {
    pub bytes: Vec<u8>,
    /// Where the bytes came from after redirects (a CDN URL for LFS files): later ranges of the
    /// same file go there directly.
    pub url: Url,
    /// False when the body went past the limit and was cut.
    pub complete: bool,
}

/// One page of a paginated API answer.
pub struct Page<T> {
    pub value: T,
    /// The `Link: <…>; rel="next"` URL, resolved against the request URL.
    pub next: Option<Url>,
}

/// The client. Shared by every worker thread.
pub struct HubClient {
    http: Client,
    config: ClientConfig,
    /// Rate-limit bucket → no request to it before this instant.
    paused_until: Mutex<HashMap<String, Instant>>,
    requests: AtomicU64,
    waited_ms: AtomicU64,
}

impl HubClient {
    pub fn new(config: ClientConfig) -> Result<HubClient, HubError> {
        // reqwest is built without a crypto provider (to keep aws-lc's C build out); ring is
        // ours. A second install (another client) is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = Client::builder()
            .user_agent(concat!("leakhound/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(15)))
            .build()
            .map_err(|e| HubError::Transport {
                url: config.endpoint.to_string(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(HubClient {
            http,
            config,
            paused_until: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
            waited_ms: AtomicU64::new(0),
        })
    }

    pub fn endpoint(&self) -> &Url {
        &self.config.endpoint
    }

    /// The endpoint as a string without a trailing slash, for building web URLs.
    pub fn endpoint_str(&self) -> &str {
        self.config.endpoint.as_str().trim_end_matches('/')
    }

    /// Requests sent so far, every retry and redirect hop included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Time spent waiting for rate limits and backoff.
    pub fn waited(&self) -> Duration {
        Duration::from_millis(self.waited_ms.load(Ordering::Relaxed))
    }

    /// A URL on the endpoint: its path plus these segments, each percent-encoded whole (a
    /// revision `refs/pr/1` becomes one segment).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.config.endpoint.clone();
        url.path_segments_mut()
            .expect("endpoint is an http(s) URL")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// GETs JSON and the `Link` next page.
    pub fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<Page<T>, HubError> {
        let response = self.send(url, None)?;
        let next = next_link(response.headers(), response.url());
        let final_url = response.url().clone();
        let (bytes, complete) = read_limited(response, MAX_JSON_BYTES, &final_url)?;
        if !complete {
            return Err(self.protocol(&final_url, "JSON answer larger than 64 MiB"));
        }
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| self.protocol(&final_url, &format!("unexpected JSON: {e}")))?;
        Ok(Page { value, next })
    }

    /// GETs a body, or a range of it, reading at most `limit` bytes.
    pub fn get_bytes(
        &self,
        url: &Url,
        range: Option<ByteRange>,
        limit: u64,
    ) -> Result<Body, HubError> {
        let response = self.send(url, range)?;
        let final_url = response.url().clone();
        let limit = match range {
            // 200 to a Range request: the server sent the whole file. From byte 0 the prefix
            // is still what was asked for; from anywhere else it is not.
            Some(r) if response.status() == StatusCode::OK && r.start > 0 => {
                return Err(self.protocol(&final_url, "the server ignored the Range header"));
            }
            Some(r) => limit.min(r.count()),
            None => limit,
        };
        let (bytes, complete) = read_limited(response, limit, &final_url)?;
        Ok(Body {
            bytes,
            url: final_url,
            complete,
        })
    }

    /// Sends a GET, following redirects and retrying; returns a successful response.
    fn send(&self, url: &Url, range: Option<ByteRange>) -> Result<Response, HubError> {
        let mut attempt = 0;
        loop {
            self.wait_for_bucket(url);
            let outcome = self.follow_redirects(url, range);
            let retry_after = match &outcome {
                Ok(response) if is_retryable(response.status()) => {
                    Some(self.retry_delay(response, attempt))
                }
                // A dead endpoint should not cost every repo half a minute: two retries.
                Err(HubError::Transport { .. }) if attempt < 2 => Some(self.backoff(attempt)),
                _ => None,
            };
            match (outcome, retry_after) {
                (Ok(response), _) if response.status().is_success() => {
                    self.note_rate_limit(response.headers(), response.url());
                    return Ok(response);
                }
                (_, Some(delay)) if attempt < self.config.retry.max_retries => {
                    attempt += 1;
                    self.sleep(delay);
                }
                (Ok(response), _) => return Err(status_error(response, &self.config.endpoint)),
                (Err(err), _) => return Err(err),
            }
        }
    }

    /// One attempt: GET, and GET each redirect target in turn.
    fn follow_redirects(
        &self,
        start: &Url,
        range: Option<ByteRange>,
    ) -> Result<Response, HubError> {
        let mut url = start.clone();
        for _ in 0..=MAX_REDIRECTS {
            let response = self.send_once(&url, range)?;
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let Some(location) = response.headers().get(LOCATION) else {
                return Ok(response);
            };
            let next = location
                .to_str()
                .ok()
                .and_then(|l| url.join(l).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| HubError::Redirect {
                    url: self.shown(&url),
                    message: "unusable Location header".into(),
                })?;
            url = next;
        }
        Err(HubError::Redirect {
            url: self.shown(start),
            message: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    fn send_once(&self, url: &Url, range: Option<ByteRange>) -> Result<Response, HubError> {
        let mut request = self.http.get(url.clone());
        if let Some(range) = range {
            request = request.header(RANGE, range.header());
        }
        // The token is for the Hub alone: a CDN, a storage bridge, another port on the same
        // host never see it.
        if let Some(token) = &self.config.token {
            if same_origin(url, &self.config.endpoint) {
                request = request.bearer_auth(token.expose());
            }
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        request.send().map_err(|e| HubError::Transport {
            url: self.shown(url),
            message: transport_message(&e),
        })
    }

    /// The wait before retry `attempt`: what a 429 asks for, else exponential backoff.
    fn retry_delay(&self, response: &Response, attempt: u32) -> Duration {
        let asked = exhausted_reset(response.headers()).or_else(|| retry_after(response.headers()));
        match asked {
            Some(wait) => {
                let wait = wait.min(self.config.retry.max_server_wait);
                if response.status() == StatusCode::TOO_MANY_REQUESTS {
                    self.pause_bucket(response.url(), wait);
                }
                wait
            }
            None => self.backoff(attempt),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let retry = &self.config.retry;
        retry
            .base_delay
            .saturating_mul(1 << attempt.min(16))
            .min(retry.max_backoff)
    }

    /// After a success that says the bucket is exhausted, pause that bucket.
    fn note_rate_limit(&self, headers: &HeaderMap, url: &Url) {
        if let Some(wait) = exhausted_reset(headers) {
            self.pause_bucket(url, wait.min(self.config.retry.max_server_wait));
        }
    }

    fn pause_bucket(&self, url: &Url, wait: Duration) {
        let Some(bucket) = bucket_of(url, &self.config.endpoint) else {
            return;
        };
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().expect("rate-limit lock");
        let previous = paused.get(bucket).copied();
        if previous.is_none_or(|p| until > p) {
            paused.insert(bucket.to_string(), until);
        }
        drop(paused);
        // Workers that hit the same limit together announce it once.
        let news = previous.is_none_or(|p| until > p + Duration::from_secs(1));
        if news && self.config.announce_waits && wait >= Duration::from_secs(1) {
            eprintln!(
                "leakhound: Hub rate limit ({bucket}) reached, waiting {}s",
                wait.as_secs()
            );
        }
    }

    fn wait_for_bucket(&self, url: &Url) {
        let Some(bucket) = bucket_of(url, &self.config.endpoint) else {
            return;
        };
        let until = self
            .paused_until
            .lock()
            .expect("rate-limit lock")
            .get(bucket)
            .copied();
        if let Some(until) = until {
            self.sleep(until.saturating_duration_since(Instant::now()));
        }
    }

    fn sleep(&self, delay: Duration) {
        if !delay.is_zero() {
            self.waited_ms
                .fetch_add(delay.as_millis() as u64, Ordering::Relaxed);
            thread::sleep(delay);
        }
    }

    fn protocol(&self, url: &Url, message: &str) -> HubError {
        HubError::Protocol {
            url: self.shown(url),
            message: message.to_string(),
        }
    }

    fn shown(&self, url: &Url) -> String {
        shown_url(url, &self.config.endpoint)
    }
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

fn read_limited(response: Response, limit: u64, url: &Url) -> Result<(Vec<u8>, bool), HubError> {
    let mut bytes = Vec::new();
    response
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| HubError::Transport {
            url: url.to_string(),
            message: format!("reading the body: {e}"),
        })?;
    let complete = bytes.len() as u64 <= limit;
    bytes.truncate(limit as usize);
    Ok((bytes, complete))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_never_shown() {
        let token = Token::new(" hf_abc\n").unwrap();
        assert_eq!(token.expose(), "hf_abc");
        assert_eq!(format!("{token:?}"), "Token(****)");
        assert!(Token::new("  ").is_none());
        assert!(Token::new("hf_a b").is_none());
    }

    #[test]
    fn byte_ranges() {
        let r = ByteRange::of(10, 20);
        assert_eq!((r.start, r.end, r.count()), (10, 19, 10));
        assert_eq!(r.header(), "bytes=10-19");
    }
}
