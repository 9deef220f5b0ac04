//! Reading the Hub's response headers: `Link` pagination, the `RateLimit` and `Retry-After`
//! waits, which rate-limit bucket a URL counts against, and which URLs share the endpoint's
//! origin (the only one that receives the token).

use std::time::Duration;

use reqwest::{
    header::{HeaderMap, LINK, RETRY_AFTER},
    Url,
};

/// A URL fit for a message: a signed CDN URL loses its query (the signature is a credential).
pub fn shown_url(url: &Url, endpoint: &Url) -> String {
    if same_origin(url, endpoint) {
        return url.to_string();
    }
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The Hub's rate-limit bucket for a URL on the endpoint: `api`, `resolvers` or `pages`.
pub fn bucket_of(url: &Url, endpoint: &Url) -> Option<&'static str> {
    if !same_origin(url, endpoint) {
        return None;
    }
    let base = endpoint.path().trim_end_matches('/');
    let path = url.path().strip_prefix(base).unwrap_or(url.path());
    Some(if path.starts_with("/api/") {
        "api"
    } else if path.contains("/resolve/") {
        "resolvers"
    } else {
        "pages"
    })
}

/// `RateLimit: "api";r=0;t=55`: when a bucket has nothing left, how long until it resets.
pub fn exhausted_reset(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("ratelimit")?.to_str().ok()?;
    value
        .split(',')
        .filter_map(|item| {
            let mut remaining = None;
            let mut reset = None;
            for param in item.split(';').skip(1) {
                match param.trim().split_once('=') {
                    Some(("r", v)) => remaining = v.trim().parse::<u64>().ok(),
                    Some(("t", v)) => reset = v.trim().parse::<u64>().ok(),
                    _ => {}
                }
            }
            (remaining == Some(0)).then_some(reset).flatten()
        })
        .max()
        .map(Duration::from_secs)
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the Hub).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(headers: &HeaderMap, base: &Url) -> Option<Url> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(parse_next)
        .and_then(|target| base.join(&target).ok())
}

fn parse_next(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        let params_end = rest[close..].find('<').map_or(rest.len(), |i| close + i);
        let params = &rest[close + 1..params_end];
        let is_next = params.split(';').any(|p| {
            p.trim_matches(|c: char| c.is_whitespace() || c == ',')
                .strip_prefix("rel=")
                .is_some_and(|rel| {
                    rel.trim_matches('"')
                        .split_whitespace()
                        .any(|r| r == "next")
                })
        });
        if is_next {
            return Some(target.to_string());
        }
        rest = &rest[params_end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn link_next() {
        let base = Url::parse("http://h/api/models?author=a").unwrap();
        let h = headers(&[(
            "link",
            r#"<http://h/api/models?author=a&cursor=x,y>; rel="next", <http://h/p>; rel="prev""#,
        )]);
        assert_eq!(
            next_link(&h, &base).unwrap().as_str(),
            "http://h/api/models?author=a&cursor=x,y"
        );
        let h = headers(&[("link", r#"</api/x?cursor=2>; rel=next"#)]);
        assert_eq!(
            next_link(&h, &base).unwrap().as_str(),
            "http://h/api/x?cursor=2"
        );
        let h = headers(&[("link", r#"<http://h/p>; rel="prev""#)]);
        assert!(next_link(&h, &base).is_none());
    }

    #[test]
    fn rate_limit_header() {
        let h = headers(&[("ratelimit", r#""api";r=0;t=12"#)]);
        assert_eq!(exhausted_reset(&h), Some(Duration::from_secs(12)));
        let h = headers(&[("ratelimit", r#""api";r=5;t=12"#)]);
        assert_eq!(exhausted_reset(&h), None);
        let h = headers(&[("retry-after", "3")]);
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
    }

    #[test]
    fn buckets_and_origins() {
        let endpoint = Url::parse("http://127.0.0.1:9000").unwrap();
        let at = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            bucket_of(&at("http://127.0.0.1:9000/api/models"), &endpoint),
            Some("api")
        );
        assert_eq!(
            bucket_of(&at("http://127.0.0.1:9000/a/b/resolve/main/x"), &endpoint),
            Some("resolvers")
        );
        assert_eq!(
            bucket_of(&at("http://127.0.0.1:9001/api/models"), &endpoint),
            None
        );
        assert!(!same_origin(&at("https://127.0.0.1:9000/"), &endpoint));
        assert!(same_origin(&at("http://127.0.0.1:9000/x"), &endpoint));
        assert_eq!(
            shown_url(&at("http://cdn:1/blob?X-Amz-Signature=s"), &endpoint),
            "http://cdn:1/blob"
        );
    }
}
