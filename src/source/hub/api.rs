//! The Hub API endpoints leakhound uses, their JSON shapes, and the two ways they page:
//! `Link: <…>; rel="next"` (listings, trees) and `?p=N` (discussions).
//!
//! Pages are fetched lazily by iterators, so an account with thousands of repos is scanned
//! page by page as the listing arrives; nothing holds the whole listing.

use serde::Deserialize;

use reqwest::Url;

use super::{
    client::{HubClient, HubError, Page},
    provenance::{RepoRef, RepoType},
};

/// Listing page size: the Hub serves up to 1000; 100 keeps the first repos flowing quickly.
pub const LISTING_PAGE_SIZE: u32 = 100;

/// An item of `/api/{models,datasets,spaces}?author=…`.
#[derive(Clone, Debug, Deserialize)]
pub struct ListedRepo {
    pub id: String,
    /// The default branch's head commit (`expand=sha`).
    #[serde(default)]
    pub sha: Option<String>,
}

/// `/api/{type}s/{id}/revision/{rev}`: what a revision resolved to.
#[derive(Clone, Debug, Deserialize)]
pub struct RevisionInfo {
    pub sha: String,
}

/// An item of `/api/{type}s/{id}/tree/{rev}?recursive=true`.
#[derive(Clone, Debug, Deserialize)]
pub struct TreeEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
    #[serde(default)]
    pub size: u64,
    /// Present for LFS (and Xet-backed) files; `size` is then the real content size.
    #[serde(default)]
    pub lfs: Option<LfsInfo>,
    #[serde(default, rename = "xetHash")]
    pub xet_hash: Option<String>,
}

impl TreeEntry {
    pub fn is_file(&self) -> bool {
        self.kind == "file"
    }

    /// Stored outside git (LFS or Xet): the download redirects to storage.
    pub fn is_large_file(&self) -> bool {
        self.lfs.is_some() || self.xet_hash.is_some()
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct LfsInfo {
    #[serde(default)]
    pub oid: String,
    #[serde(default)]
    pub size: u64,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Author {
    #[serde(default)]
    pub name: Option<String>,
}

/// `/api/{type}s/{id}/discussions?p=N`.
#[derive(Clone, Debug, Deserialize)]
pub struct DiscussionPage {
    #[serde(default)]
    pub discussions: Vec<DiscussionSummary>,
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub start: u64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DiscussionSummary {
    pub num: u64,
}

/// `/api/{type}s/{id}/discussions/{num}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscussionDetail {
    pub num: u64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub is_pull_request: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub author: Option<Author>,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// A discussion event: a comment, a status change, a commit, a title change.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(default)]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub author: Option<Author>,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// `/api/models?author=…&limit=100&expand=sha`.
pub fn listing_url(client: &HubClient, repo_type: RepoType, owner: &str) -> Url {
    let mut url = client.url(&["api", repo_type.plural()]);
    url.query_pairs_mut()
        .append_pair("author", owner)
        .append_pair("limit", &LISTING_PAGE_SIZE.to_string())
        .append_pair("expand", "sha");
    url
}

pub fn revision_url(client: &HubClient, repo: &RepoRef, revision: &str) -> Url {
    repo_api_url(client, repo, &["revision", revision])
}

pub fn tree_url(client: &HubClient, repo: &RepoRef, sha: &str) -> Url {
    let mut url = repo_api_url(client, repo, &["tree", sha]);
    url.query_pairs_mut().append_pair("recursive", "true");
    url
}

/// `{endpoint}/{prefix}{id}/resolve/{sha}/{path}`: a file's content (it may redirect).
pub fn resolve_url(client: &HubClient, repo: &RepoRef, sha: &str, path: &str) -> Url {
    let mut segments = repo_segments(repo);
    segments.extend(["resolve", sha]);
    segments.extend(path.split('/'));
    client.url(&segments)
}

pub fn discussions_url(client: &HubClient, repo: &RepoRef, page: u64) -> Url {
    let mut url = repo_api_url(client, repo, &["discussions"]);
    url.query_pairs_mut().append_pair("p", &page.to_string());
    url
}

pub fn discussion_url(client: &HubClient, repo: &RepoRef, num: u64) -> Url {
    repo_api_url(client, repo, &["discussions", &num.to_string()])
}

/// `/api/{type}s/{owner}/{name}/…`.
fn repo_api_url(client: &HubClient, repo: &RepoRef, tail: &[&str]) -> Url {
    let mut segments = vec!["api", repo.repo_type.plural()];
    segments.extend(repo.id.split('/'));
    segments.extend(tail);
    client.url(&segments)
}

/// `[datasets/]owner/name` as path segments.
fn repo_segments(repo: &RepoRef) -> Vec<&str> {
    let mut segments: Vec<&str> = repo.repo_type.url_prefix().split('/').collect();
    segments.retain(|s| !s.is_empty());
    segments.extend(repo.id.split('/'));
    segments
}

/// Resolves a revision (branch, tag, `refs/pr/N`, sha) to its commit sha.
pub fn resolve_revision(
    client: &HubClient,
    repo: &RepoRef,
    revision: &str,
) -> Result<String, HubError> {
    let url = revision_url(client, repo, revision);
    Ok(client.get_json::<RevisionInfo>(&url)?.value.sha)
}

/// The items of a `Link`-paginated JSON array, fetched a page at a time. After an error it
/// yields that error once and stops.
pub struct LinkPages<'c, T> {
    client: &'c HubClient,
    next: Option<Url>,
    items: std::vec::IntoIter<T>,
}

impl<'c, T> LinkPages<'c, T> {
    pub fn new(client: &'c HubClient, first: Url) -> Self {
        LinkPages {
            client,
            next: Some(first),
            items: Vec::new().into_iter(),
        }
    }
}

impl<T: serde::de::DeserializeOwned> Iterator for LinkPages<'_, T> {
    type Item = Result<T, HubError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.items.next() {
                return Some(Ok(item));
            }
            let url = self.next.take()?;
            match self.client.get_json::<Vec<T>>(&url) {
                Ok(page) => {
                    // A server that links a page to itself would loop forever.
                    self.next = page.next.filter(|next| *next != url);
                    self.items = page.value.into_iter();
                }
                Err(err) => return Some(Err(err)),
            }
        }
    }
}

/// The discussion numbers of a repo, page by page (`?p=0,1,…` until `start + len >= count`).
pub struct DiscussionPages<'c> {
    client: &'c HubClient,
    repo: &'c RepoRef,
    page: Option<u64>,
}

impl<'c> DiscussionPages<'c> {
    pub fn new(client: &'c HubClient, repo: &'c RepoRef) -> Self {
        DiscussionPages {
            client,
            repo,
            page: Some(0),
        }
    }
}

impl Iterator for DiscussionPages<'_> {
    type Item = Result<Vec<DiscussionSummary>, HubError>;

    fn next(&mut self) -> Option<Self::Item> {
        let page = self.page.take()?;
        let url = discussions_url(self.client, self.repo, page);
        match self.client.get_json::<DiscussionPage>(&url) {
            Ok(Page { value, .. }) => {
                let seen = value.start + value.discussions.len() as u64;
                if !value.discussions.is_empty() && seen < value.count {
                    self.page = Some(page + 1);
                }
                Some(Ok(value.discussions))
            }
            Err(err) => Some(Err(err)),
        }
    }
}

/// Fetches one discussion with its events.
pub fn discussion(
    client: &HubClient,
    repo: &RepoRef,
    num: u64,
) -> Result<DiscussionDetail, HubError> {
    Ok(client
        .get_json::<DiscussionDetail>(&discussion_url(client, repo, num))?
        .value)
}
