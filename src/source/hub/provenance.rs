//! Where a Hub blob came from: repo type and id, the commit, the file or the discussion, and
//! the web address a person opens to see it.
//!
//! The displayed path (`hf://owner/name/config.json`, HfFileSystem's notation) names the
//! revision the user asked for, never the commit sha, because the finding fingerprint hashes
//! it: a secret left in `config.json` keeps its fingerprint across unrelated pushes. The sha
//! travels in [`HubLocation::revision`] and in the URL.

use serde::Serialize;

/// The three kinds of Hub repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoType {
    Model,
    Dataset,
    Space,
}

impl RepoType {
    pub const ALL: [RepoType; 3] = [RepoType::Model, RepoType::Dataset, RepoType::Space];

    /// `model`, `dataset`, `space`.
    pub fn as_str(self) -> &'static str {
        match self {
            RepoType::Model => "model",
            RepoType::Dataset => "dataset",
            RepoType::Space => "space",
        }
    }

    /// The API collection: `/api/models/…`.
    pub fn plural(self) -> &'static str {
        match self {
            RepoType::Model => "models",
            RepoType::Dataset => "datasets",
            RepoType::Space => "spaces",
        }
    }

    /// The web and git URL prefix: models have none.
    pub fn url_prefix(self) -> &'static str {
        match self {
            RepoType::Model => "",
            RepoType::Dataset => "datasets/",
            RepoType::Space => "spaces/",
        }
    }
}

/// One repository: its type and its `owner/name` id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoRef {
    pub repo_type: RepoType,
    pub id: String,
}

impl RepoRef {
    pub fn new(repo_type: RepoType, id: impl Into<String>) -> RepoRef {
        RepoRef {
            repo_type,
            id: id.into(),
        }
    }

    /// `hf://datasets/owner/name`, `hf://owner/name` for a model.
    pub fn display(&self) -> String {
        format!("hf://{}{}", self.repo_type.url_prefix(), self.id)
    }

    /// `{endpoint}/{prefix}{id}`: the repo's web page and its git clone URL.
    pub fn web_url(&self, endpoint: &str) -> String {
        format!(
            "{}/{}{}",
            endpoint.trim_end_matches('/'),
            self.repo_type.url_prefix(),
            self.id
        )
    }
}

/// Which part of a discussion a blob holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscussionPart {
    Title,
    Comment,
    TitleChange,
    Commit,
}

/// A discussion or pull request, and the event in it that a blob came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DiscussionRef {
    pub num: u64,
    pub is_pull_request: bool,
    pub part: DiscussionPart,
    /// The event id (comments, title changes, commits); absent for the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Author of the event (of the discussion, for the title); absent for deleted accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// Where on the Hub a blob was found. Built by [`HubLocation::file`] or
/// [`HubLocation::discussion`], which also fix the displayed path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct HubLocation {
    pub repo_type: RepoType,
    pub repo_id: String,
    /// The commit sha the revision resolved to (files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The file's path in the repo (files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// For weight files: the part that was fetched and scanned (`safetensors-header`,
    /// `gguf-metadata`, `zip:archive/data.pkl`, `pickle-prefix`); lines count within it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extract: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discussion: Option<DiscussionRef>,
    #[serde(skip)]
    repo_url: String,
    #[serde(skip)]
    display: String,
}

impl HubLocation {
    /// A file at commit `sha`; `requested` is the revision the user named, if any.
    pub fn file(
        endpoint: &str,
        repo: &RepoRef,
        requested: Option<&str>,
        sha: &str,
        path: &str,
        extract: Option<String>,
    ) -> HubLocation {
        let at = requested.map(|r| format!("@{r}")).unwrap_or_default();
        HubLocation {
            repo_type: repo.repo_type,
            repo_id: repo.id.clone(),
            revision: Some(sha.to_string()),
            path: Some(path.to_string()),
            extract,
            discussion: None,
            repo_url: repo.web_url(endpoint),
            display: format!("{}{at}/{path}", repo.display()),
        }
    }

    /// A part of discussion `discussion.num`.
    pub fn discussion(endpoint: &str, repo: &RepoRef, discussion: DiscussionRef) -> HubLocation {
        let anchor = discussion.event_id.as_deref().unwrap_or("title");
        HubLocation {
            repo_type: repo.repo_type,
            repo_id: repo.id.clone(),
            revision: None,
            path: None,
            extract: None,
            display: format!("{}/discussions/{}#{anchor}", repo.display(), discussion.num),
            discussion: Some(discussion),
            repo_url: repo.web_url(endpoint),
        }
    }

    /// The path shown in reports and hashed into fingerprints.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The web page for this location: the file at its commit, at `line` when the line is a
    /// line of the file (not of an extracted weight header), or the discussion.
    pub fn url(&self, line: Option<usize>) -> String {
        if let Some(discussion) = &self.discussion {
            return format!("{}/discussions/{}", self.repo_url, discussion.num);
        }
        let sha = self.revision.as_deref().unwrap_or("main");
        let path = self.path.as_deref().unwrap_or_default();
        let mut url = format!("{}/blob/{sha}/{}", self.repo_url, encode_path(path));
        if let (Some(line), None) = (line, &self.extract) {
            url.push_str(&format!("#L{line}"));
        }
        url
    }
}

/// Percent-encodes a repo path for a URL, keeping `/` (the Hub's own links do the same).
pub fn encode_path(path: &str) -> String {
    crate::source::percent_encode_path(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn file_display_and_url() {
        let repo = RepoRef::new(RepoType::Dataset, "acme/data");
        let loc = HubLocation::file(
            "https://huggingface.co/",
            &repo,
            None,
            SHA,
            "dir/a b.txt",
            None,
        );
        assert_eq!(loc.display(), "hf://datasets/acme/data/dir/a b.txt");
        assert_eq!(
            loc.url(Some(7)),
            format!("https://huggingface.co/datasets/acme/data/blob/{SHA}/dir/a%20b.txt#L7")
        );
        let model = RepoRef::new(RepoType::Model, "acme/m");
        let loc = HubLocation::file(
            "http://h",
            &model,
            Some("v1"),
            SHA,
            "m.safetensors",
            Some("safetensors-header".into()),
        );
        assert_eq!(loc.display(), "hf://acme/m@v1/m.safetensors");
        // An extract's lines are not the file's lines: no anchor.
        assert_eq!(
            loc.url(Some(1)),
            format!("http://h/acme/m/blob/{SHA}/m.safetensors")
        );
    }

    #[test]
    fn discussion_display_and_url() {
        let repo = RepoRef::new(RepoType::Space, "acme/app");
        let loc = HubLocation::discussion(
            "http://h",
            &repo,
            DiscussionRef {
                num: 4,
                is_pull_request: true,
                part: DiscussionPart::Comment,
                event_id: Some("e1".into()),
                author: Some("bob".into()),
                created_at: None,
            },
        );
        assert_eq!(loc.display(), "hf://spaces/acme/app/discussions/4#e1");
        assert_eq!(loc.url(Some(3)), "http://h/spaces/acme/app/discussions/4");
        let json = serde_json::to_value(&loc).unwrap();
        assert_eq!(json["repo_type"], "space");
        assert_eq!(json["discussion"]["part"], "comment");
        assert!(json.get("revision").is_none());
    }
}
