//! A fake Hugging Face Hub on two loopback ports: the Hub itself (API, resolve) and a "CDN"
//! that LFS downloads redirect to. It answers as the reference describes: listings and trees
//! paged by `Link`, discussions paged by `p`, LFS resolves as 302s to signed CDN URLs, Range
//! answered with 206, gated repos with 403 `GatedRepo`, missing ones with 404 `RepoNotFound`,
//! and, on request, a 429 or 503 once per path.

use std::{
    collections::{BTreeSet, HashSet},
    sync::{Arc, Mutex, OnceLock},
};

use serde_json::{json, Value};

use super::http::{Request, Response, Server};

pub struct File {
    pub path: String,
    pub content: Vec<u8>,
    /// Stored in LFS: the resolve URL redirects to the CDN.
    pub lfs: bool,
}

pub struct Comment {
    pub id: String,
    pub author: String,
    pub date: String,
    pub text: String,
}

pub struct Discussion {
    pub num: u64,
    pub title: String,
    pub is_pr: bool,
    pub author: String,
    pub date: String,
    pub comments: Vec<Comment>,
}

pub struct Repo {
    /// `model`, `dataset`, `space`.
    pub kind: &'static str,
    pub id: String,
    pub sha: String,
    pub files: Vec<File>,
    pub discussions: Vec<Discussion>,
    pub gated: bool,
}

impl Repo {
    pub fn new(kind: &'static str, id: &str, sha_seed: u8) -> Repo {
        Repo {
            kind,
            id: id.to_string(),
            sha: format!("{:02x}", sha_seed).repeat(20),
            files: Vec::new(),
            discussions: Vec::new(),
            gated: false,
        }
    }

    pub fn file(mut self, path: &str, content: impl Into<Vec<u8>>) -> Repo {
        self.files.push(File {
            path: path.into(),
            content: content.into(),
            lfs: false,
        });
        self
    }

    pub fn lfs(mut self, path: &str, content: Vec<u8>) -> Repo {
        self.files.push(File {
            path: path.into(),
            content,
            lfs: true,
        });
        self
    }

    pub fn discussion(mut self, discussion: Discussion) -> Repo {
        self.discussions.push(discussion);
        self
    }

    pub fn gated(mut self) -> Repo {
        self.gated = true;
        self
    }

    fn prefix(&self) -> &'static str {
        match self.kind {
            "dataset" => "datasets/",
            "space" => "spaces/",
            _ => "",
        }
    }
}

/// Faults injected once per request path.
#[derive(Default)]
pub struct Faults {
    /// 429 with `Retry-After: 1` and `RateLimit: "api";r=0;t=1`.
    pub throttle: Vec<String>,
    /// 503 without `Retry-After`.
    pub unavailable: Vec<String>,
    /// A normal answer that says the api bucket is exhausted: `RateLimit: "api";r=0;t=1`.
    pub exhaust: Vec<String>,
}

struct Data {
    repos: Vec<Repo>,
    page_size: usize,
    faults: Faults,
    tripped: Mutex<HashSet<String>>,
    hub_url: OnceLock<String>,
    cdn_url: OnceLock<String>,
}

pub struct FakeHub {
    pub hub: Server,
    pub cdn: Server,
}

impl FakeHub {
    /// Starts both servers. Listings, trees and discussions are served `page_size` at a time.
    pub fn start(repos: Vec<Repo>, page_size: usize, faults: Faults) -> FakeHub {
        let data = Arc::new(Data {
            repos,
            page_size,
            faults,
            tripped: Mutex::default(),
            hub_url: OnceLock::new(),
            cdn_url: OnceLock::new(),
        });
        let d = data.clone();
        let cdn = Server::start(Arc::new(move |r: &Request| cdn_route(&d, r)));
        let d = data.clone();
        let hub = Server::start(Arc::new(move |r: &Request| hub_route(&d, r)));
        data.cdn_url.set(cdn.url()).unwrap();
        data.hub_url.set(hub.url()).unwrap();
        FakeHub { hub, cdn }
    }

    pub fn url(&self) -> String {
        self.hub.url()
    }
}

fn error(status: u16, code: &str, message: &str) -> Response {
    Response::new(status)
        .header("X-Error-Code", code)
        .header("X-Error-Message", message)
        .header("Content-Type", "application/json")
        .body(json!({ "error": message }).to_string().into_bytes())
}

fn kind_of(plural: &str) -> Option<&'static str> {
    match plural {
        "models" => Some("model"),
        "datasets" => Some("dataset"),
        "spaces" => Some("space"),
        _ => None,
    }
}

fn hub_route(data: &Data, request: &Request) -> Response {
    if let Some(fault) = fault(data, request) {
        return fault;
    }
    let response = answer(data, request);
    if data.faults.exhaust.iter().any(|p| p == request.path()) {
        return response.header("RateLimit", r#""api";r=0;t=1"#);
    }
    response
}

fn answer(data: &Data, request: &Request) -> Response {
    let segments = request.segments();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["api", plural] => match kind_of(plural) {
            Some(kind) => listing(data, request, kind),
            None => error(404, "NotFound", "no such route"),
        },
        ["api", plural, owner, name, rest @ ..] => {
            let Some(kind) = kind_of(plural) else {
                return error(404, "NotFound", "no such route");
            };
            let Some(repo) = find(data, kind, &format!("{owner}/{name}")) else {
                return repo_not_found(kind, owner, name);
            };
            repo_api(data, request, repo, rest)
        }
        _ => resolve(data, request, &s),
    }
}

fn fault(data: &Data, request: &Request) -> Option<Response> {
    let path = request.path().to_string();
    let is = |list: &[String]| list.contains(&path);
    if !is(&data.faults.throttle) && !is(&data.faults.unavailable) {
        return None;
    }
    if !data.tripped.lock().unwrap().insert(path.clone()) {
        return None;
    }
    Some(if is(&data.faults.throttle) {
        error(429, "RateLimited", "You have been rate-limited")
            .header("Retry-After", "1")
            .header("RateLimit", r#""api";r=0;t=1"#)
    } else {
        error(503, "Unavailable", "try again")
    })
}

fn find<'a>(data: &'a Data, kind: &str, id: &str) -> Option<&'a Repo> {
    data.repos.iter().find(|r| r.kind == kind && r.id == id)
}

fn repo_not_found(kind: &str, owner: &str, name: &str) -> Response {
    error(
        404,
        "RepoNotFound",
        &format!("Repository Not Found for {kind} {owner}/{name}."),
    )
}

/// `items[cursor..cursor+page]`, with a `Link` to the next page that keeps the query.
fn paged(data: &Data, request: &Request, items: Vec<Value>) -> Response {
    let cursor: usize = request
        .query("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let end = (cursor + data.page_size).min(items.len());
    let page = Value::Array(items[cursor.min(end)..end].to_vec());
    let mut response = Response::json(&page);
    if end < items.len() {
        let base = request.target.split("&cursor=").next().unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let next = format!("{}{base}{sep}cursor={end}", data.hub_url.get().unwrap());
        response = response.header("Link", format!("<{next}>; rel=\"next\""));
    }
    response
}

fn listing(data: &Data, request: &Request, kind: &str) -> Response {
    let author = request.query("author").unwrap_or_default();
    let items = data
        .repos
        .iter()
        .filter(|r| r.kind == kind && r.id.starts_with(&format!("{author}/")))
        .map(|r| json!({ "_id": format!("id-{}", r.id), "id": r.id, "sha": r.sha, "private": false }))
        .collect();
    paged(data, request, items)
}

fn repo_api(data: &Data, request: &Request, repo: &Repo, rest: &[&str]) -> Response {
    match rest {
        ["revision", revision] => {
            if !["main", "v1", repo.sha.as_str()].contains(revision) {
                return error(
                    404,
                    "RevisionNotFound",
                    &format!("Invalid rev id: {revision}"),
                );
            }
            Response::json(&json!({ "id": repo.id, "sha": repo.sha, "private": false,
                "gated": if repo.gated { json!("manual") } else { json!(false) } }))
        }
        ["tree", _revision] => paged(data, request, tree(repo)),
        ["discussions"] => discussions_page(data, request, repo),
        ["discussions", num] => match repo.discussions.iter().find(|d| d.num.to_string() == *num) {
            Some(d) => Response::json(&discussion_detail(d)),
            None => error(404, "NotFound", "Discussion not found"),
        },
        _ => error(404, "NotFound", "no such route"),
    }
}

/// Directories, then files, as the recursive tree endpoint lists them.
fn tree(repo: &Repo) -> Vec<Value> {
    let dirs: BTreeSet<String> = repo
        .files
        .iter()
        .flat_map(|f| {
            let parts: Vec<&str> = f.path.split('/').collect();
            (1..parts.len()).map(move |n| parts[..n].join("/"))
        })
        .collect();
    let mut items: Vec<Value> = dirs
        .into_iter()
        .map(|d| json!({ "type": "directory", "oid": "0".repeat(40), "size": 0, "path": d }))
        .collect();
    items.extend(repo.files.iter().map(|f| {
        let mut item = json!({ "type": "file", "oid": "1".repeat(40),
            "size": f.content.len(), "path": f.path });
        if f.lfs {
            item["lfs"] =
                json!({ "oid": "2".repeat(64), "size": f.content.len(), "pointerSize": 134 });
            item["xetHash"] = json!("3".repeat(64));
        }
        item
    }));
    items
}

fn discussions_page(data: &Data, request: &Request, repo: &Repo) -> Response {
    let page: usize = request.query("p").and_then(|p| p.parse().ok()).unwrap_or(0);
    let start = page * data.page_size;
    let items: Vec<Value> = repo
        .discussions
        .iter()
        .skip(start)
        .take(data.page_size)
        .map(|d| {
            json!({ "num": d.num, "title": d.title, "status": "open",
            "isPullRequest": d.is_pr, "createdAt": d.date, "author": { "name": d.author },
            "repo": { "name": repo.id, "type": repo.kind } })
        })
        .collect();
    Response::json(
        &json!({ "discussions": items, "count": repo.discussions.len(), "start": start }),
    )
}

fn discussion_detail(d: &Discussion) -> Value {
    let mut events: Vec<Value> = d
        .comments
        .iter()
        .map(|c| json!({ "id": c.id, "type": "comment", "createdAt": c.date,
            "author": { "name": c.author },
            "data": { "edited": false, "hidden": false, "latest": { "raw": c.text, "html": "<p></p>" } } }))
        .collect();
    events.push(
        json!({ "id": "status-1", "type": "status-change", "createdAt": d.date,
        "data": { "status": "closed" } }),
    );
    json!({ "num": d.num, "title": d.title, "status": "closed", "isPullRequest": d.is_pr,
        "createdAt": d.date, "author": { "name": d.author }, "events": events })
}

/// `[datasets/|spaces/]owner/name/resolve/rev/path…`.
fn resolve(data: &Data, request: &Request, s: &[&str]) -> Response {
    let (kind, rest) = match s.first() {
        Some(&"datasets") => ("dataset", &s[1..]),
        Some(&"spaces") => ("space", &s[1..]),
        _ => ("model", s),
    };
    let [owner, name, "resolve", _revision, path @ ..] = rest else {
        return error(404, "NotFound", "no such route");
    };
    let Some(repo) = find(data, kind, &format!("{owner}/{name}")) else {
        return repo_not_found(kind, owner, name);
    };
    if repo.gated {
        let message = format!(
            "Access to model {} is restricted and you are not in the authorized list. Visit {}/{} to ask for access.",
            repo.id,
            data.hub_url.get().unwrap(),
            repo.id
        );
        return error(403, "GatedRepo", &message);
    }
    let path = path.join("/");
    let Some(file) = repo.files.iter().find(|f| f.path == path) else {
        return error(404, "EntryNotFound", &format!("{path} does not exist"));
    };
    if file.lfs {
        let location = format!(
            "{}/{}{}/{}?X-Amz-Signature=signed",
            data.cdn_url.get().unwrap(),
            repo.prefix(),
            repo.id,
            path
        );
        return Response::new(302)
            .header("Location", location)
            .header("X-Repo-Commit", repo.sha.clone())
            .header("X-Linked-Size", file.content.len().to_string());
    }
    serve_range(request, &file.content).header("X-Repo-Commit", repo.sha.clone())
}

fn cdn_route(data: &Data, request: &Request) -> Response {
    let segments = request.segments();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (kind, rest) = match s.first() {
        Some(&"datasets") => ("dataset", &s[1..]),
        Some(&"spaces") => ("space", &s[1..]),
        _ => ("model", &s[..]),
    };
    let [owner, name, path @ ..] = rest else {
        return Response::new(404);
    };
    let path = path.join("/");
    match find(data, kind, &format!("{owner}/{name}"))
        .and_then(|repo| repo.files.iter().find(|f| f.path == path))
    {
        Some(file) => serve_range(request, &file.content),
        None => Response::new(404),
    }
}

/// 206 with `Content-Range` for `Range: bytes=a-b`, else 200 with everything.
fn serve_range(request: &Request, content: &[u8]) -> Response {
    let range = request
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'));
    let Some((start, end)) = range else {
        return Response::new(200).body(content.to_vec());
    };
    let len = content.len();
    let start: usize = start.parse().unwrap();
    let end: usize = end.parse().map_or(len - 1, |e: usize| e.min(len - 1));
    if start >= len {
        return Response::new(416).header("Content-Range", format!("bytes */{len}"));
    }
    Response::new(206)
        .header("Content-Range", format!("bytes {start}-{end}/{len}"))
        .body(content[start..=end].to_vec())
}
