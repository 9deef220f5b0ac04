//! Discussions and pull requests as blobs: the title, every comment (a PR's description is its
//! first comment), title changes and commit subjects, each with its author and date so a
//! finding says who posted the secret, when, and links to the discussion.

use super::{
    api::{DiscussionDetail, Event},
    provenance::{DiscussionPart, DiscussionRef, HubLocation, RepoRef},
};
use crate::source::{Blob, Provenance};

/// The blobs of one discussion, in order; empty texts are left out.
pub fn blobs(endpoint: &str, repo: &RepoRef, discussion: &DiscussionDetail) -> Vec<Blob> {
    let title = DiscussionRef {
        num: discussion.num,
        is_pull_request: discussion.is_pull_request,
        part: DiscussionPart::Title,
        event_id: None,
        author: discussion.author.as_ref().and_then(|a| a.name.clone()),
        created_at: discussion.created_at.clone(),
    };
    let mut parts = vec![(title, discussion.title.clone())];
    parts.extend(discussion.events.iter().filter_map(|event| {
        let (part, text) = event_text(event)?;
        Some((
            DiscussionRef {
                num: discussion.num,
                is_pull_request: discussion.is_pull_request,
                part,
                event_id: Some(event.id.clone()),
                author: event.author.as_ref().and_then(|a| a.name.clone()),
                created_at: event.created_at.clone(),
            },
            text,
        ))
    }));
    parts
        .into_iter()
        .filter(|(_, text)| !text.is_empty())
        .map(|(reference, text)| Blob {
            data: text.into_bytes(),
            provenance: Provenance::Hub(Box::new(HubLocation::discussion(
                endpoint, repo, reference,
            ))),
        })
        .collect()
}

/// The text of an event worth scanning.
fn event_text(event: &Event) -> Option<(DiscussionPart, String)> {
    let field = |path: &[&str]| {
        path.iter()
            .try_fold(&event.data, |value, key| value.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match event.kind.as_str() {
        "comment" => Some((DiscussionPart::Comment, field(&["latest", "raw"])?)),
        "commit" => Some((DiscussionPart::Commit, field(&["subject"])?)),
        "title-change" => {
            let from = field(&["from"]).unwrap_or_default();
            let to = field(&["to"]).unwrap_or_default();
            Some((DiscussionPart::TitleChange, format!("{from}\n{to}")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::hub::provenance::RepoType;

    #[test]
    fn titles_comments_and_commits() {
        let detail: DiscussionDetail = serde_json::from_value(serde_json::json!({
            "num": 7, "title": "Add token", "isPullRequest": true,
            "createdAt": "2024-01-02T03:04:05.000Z", "author": {"name": "alice"},
            "events": [
                {"id": "e1", "type": "comment", "createdAt": "2024-01-02T03:04:05.000Z",
                 "author": {"name": "alice"}, "data": {"latest": {"raw": "my key: X"}, "hidden": false}},
                {"id": "e2", "type": "status-change", "data": {"status": "closed"}},
                {"id": "e3", "type": "commit", "data": {"subject": "oops", "oid": "abc"}},
                {"id": "e4", "type": "comment", "data": {"latest": {"raw": ""}}}
            ]
        }))
        .unwrap();
        let repo = RepoRef::new(RepoType::Model, "acme/m");
        let blobs = blobs("http://h", &repo, &detail);
        let texts: Vec<&[u8]> = blobs.iter().map(|b| b.data.as_slice()).collect();
        assert_eq!(texts, [&b"Add token"[..], b"my key: X", b"oops"]);
        let Provenance::Hub(comment) = &blobs[1].provenance else {
            panic!()
        };
        let reference = comment.discussion.as_ref().unwrap();
        assert_eq!(reference.author.as_deref(), Some("alice"));
        assert_eq!(reference.event_id.as_deref(), Some("e1"));
        assert!(reference.is_pull_request);
        assert_eq!(comment.display(), "hf://acme/m/discussions/7#e1");
    }
}
