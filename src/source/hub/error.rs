//! Typed request failures: the status and the Hub's `X-Error-Code` and `X-Error-Message`,
//! because callers branch on them (a gated repo is skipped, a missing file is one error).

use std::{fmt, io::Read};

use reqwest::{blocking::Response, StatusCode, Url};

use super::headers::shown_url;

/// A request that failed, with what the caller needs to decide what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HubError {
    /// The server answered with an error status (after any retries).
    Status {
        status: u16,
        url: String,
        /// `X-Error-Code`: `RepoNotFound`, `GatedRepo`, `RevisionNotFound`, `EntryNotFound`.
        code: Option<String>,
        /// `X-Error-Message`, or the `error` field of a JSON body.
        message: Option<String>,
    },
    /// No answer: connection refused, timeout, TLS, a broken body.
    Transport { url: String, message: String },
    /// A redirect without a usable `Location`, or too many of them.
    Redirect { url: String, message: String },
    /// An answer that makes no sense: bad JSON, a Range ignored, a truncated file.
    Protocol { url: String, message: String },
}

/// Why a whole repo cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// Gated: the token's user has not been granted access.
    Gated,
    /// Missing, or private and the token cannot see it (the Hub does not tell which).
    NotFound,
    /// Refused: disabled by its author, an org's token policy, a bad token.
    Forbidden,
}

impl HubError {
    pub fn status(&self) -> Option<u16> {
        match self {
            HubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            HubError::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether this error closes the whole repo rather than one file: gated, missing, private,
    /// refused. A 404 without `RepoNotFound` (a missing file) is not.
    pub fn denial(&self) -> Option<Denial> {
        match (self.status()?, self.code()) {
            (_, Some("GatedRepo")) => Some(Denial::Gated),
            (_, Some("RepoNotFound")) | (401, _) => Some(Denial::NotFound),
            (403, _) => Some(Denial::Forbidden),
            _ => None,
        }
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubError::Status {
                status,
                url,
                code,
                message,
            } => {
                let reason = StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                write!(f, "HTTP {status} {reason}")?;
                if let Some(code) = code {
                    write!(f, " ({code})")?;
                }
                if let Some(message) = message {
                    write!(f, ": {message}")?;
                }
                write!(f, " [GET {url}]")
            }
            HubError::Transport { url, message } => write!(f, "{message} [GET {url}]"),
            HubError::Redirect { url, message } => write!(f, "redirect: {message} [GET {url}]"),
            HubError::Protocol { url, message } => write!(f, "{message} [GET {url}]"),
        }
    }
}

impl std::error::Error for HubError {}

pub fn status_error(response: Response, endpoint: &Url) -> HubError {
    let status = response.status().as_u16();
    let url = shown_url(response.url(), endpoint);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let code = header("x-error-code");
    let mut message = header("x-error-message");
    if message.is_none() {
        let mut body = Vec::new();
        let _ = response.take(4096).read_to_end(&mut body);
        message = body_error(&body);
    }
    HubError::Status {
        status,
        url,
        code,
        message,
    }
}

/// `{"error": "…"}` (or a list of them), as the Hub sends with errors.
fn body_error(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match &value["error"] {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => None,
    }
}

pub fn transport_message(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // The source chain names the cause (refused, DNS, TLS); reqwest's own text repeats the URL.
    let mut cause = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials() {
        let err = |status, code: Option<&str>| HubError::Status {
            status,
            url: String::new(),
            code: code.map(str::to_string),
            message: None,
        };
        assert_eq!(err(403, Some("GatedRepo")).denial(), Some(Denial::Gated));
        assert_eq!(
            err(404, Some("RepoNotFound")).denial(),
            Some(Denial::NotFound)
        );
        assert_eq!(err(401, None).denial(), Some(Denial::NotFound));
        assert_eq!(err(404, Some("EntryNotFound")).denial(), None);
        assert_eq!(err(500, None).denial(), None);
    }
}
