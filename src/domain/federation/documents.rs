//! The ActivityPub documents we publish, as Mastodon, GoToSocial, Friendica
//! and Misskey read them: actors, notes (with the schema.org-style event
//! fields of FEP-8a8e), activities, collections, WebFinger and NodeInfo.
//! Only the two contexts every implementation preloads are referenced by
//! URL; the rest of the vocabulary is defined inline.

use serde_json::{Value, json};

use crate::domain::sanitize::escape_html;

pub const ACTIVITY_JSON: &str = "application/activity+json";
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";
/// Items per page of an outbox.
pub const PAGE_SIZE: usize = 20;

fn context() -> Value {
    json!([
        AS_CONTEXT,
        SECURITY_CONTEXT,
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
            "schema": "http://schema.org#",
            "eventStatus": "schema:eventStatus",
            "eventAttendanceMode": "schema:eventAttendanceMode"
        }
    ])
}

/// RFC 3339 in UTC, as ActivityPub dates are written.
pub fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One of our actors: a group (`Group`) or the site (`Application`), which
/// relays every group.
pub struct Actor<'a> {
    /// Its IRI; inbox, outbox and followers are below it.
    pub id: &'a str,
    pub is_site: bool,
    pub username: &'a str,
    pub name: &'a str,
    /// Plain text.
    pub summary: &'a str,
    /// The page people open.
    pub url: &'a str,
    pub icon: Option<&'a str>,
    pub public_key_pem: &'a str,
    pub shared_inbox: &'a str,
}

impl Actor<'_> {
    pub fn key_id(&self) -> String {
        format!("{}#main-key", self.id)
    }

    pub fn followers(&self) -> String {
        format!("{}/followers", self.id)
    }

    pub fn document(&self) -> Value {
        let mut actor = json!({
            "@context": context(),
            "id": self.id,
            "type": if self.is_site { "Application" } else { "Group" },
            "preferredUsername": self.username,
            "name": self.name,
            "summary": format!("<p>{}</p>", escape_html(self.summary)),
            "url": self.url,
            "inbox": format!("{}/inbox", self.id),
            "outbox": format!("{}/outbox", self.id),
            "followers": self.followers(),
            "endpoints": { "sharedInbox": self.shared_inbox },
            "publicKey": {
                "id": self.key_id(),
                "owner": self.id,
                "publicKeyPem": self.public_key_pem,
            },
            "manuallyApprovesFollowers": false,
            "discoverable": true,
        });
        if let Some(icon) = self.icon {
            actor["icon"] = json!({ "type": "Image", "url": icon });
        }
        actor
    }
}

/// Where and when an event takes place.
pub struct EventFacts<'a> {
    pub starts_at: i64,
    pub ends_at: i64,
    pub timezone: Option<&'a str>,
    pub place: Option<&'a str>,
    pub coordinates: Option<(f64, f64)>,
    /// schema.org's `EventScheduled`, `EventCancelled`, `EventPostponed`.
    pub status: &'a str,
    /// schema.org's `OfflineEventAttendanceMode`, `OnlineEventAttendanceMode`, `MixedEventAttendanceMode`.
    pub attendance: &'a str,
}

/// An entry as a `Note`: what Mastodon shows well.
pub struct Note<'a> {
    pub id: &'a str,
    pub attributed_to: &'a str,
    pub followers: &'a str,
    pub title: &'a str,
    /// Sanitized HTML (what the feeds publish, the date and place first).
    pub body_html: &'a str,
    pub link: &'a str,
    pub language: Option<&'a str>,
    pub published: i64,
    pub updated: Option<i64>,
    /// `(url, alt text)`.
    pub image: Option<(&'a str, &'a str)>,
    pub event: Option<EventFacts<'a>>,
}

impl Note<'_> {
    pub fn object(&self) -> Value {
        let link = escape_html(self.link);
        let content = format!(
            "<p><strong>{}</strong></p>{}<p><a href=\"{link}\">{link}</a></p>",
            escape_html(self.title),
            self.body_html
        );
        let mut note = json!({
            "id": self.id,
            "type": "Note",
            "attributedTo": self.attributed_to,
            "to": [PUBLIC],
            "cc": [self.followers],
            "name": self.title,
            "content": content,
            "url": self.link,
            "published": timestamp(self.published),
            "sensitive": false,
        });
        if let Some(language) = self.language {
            note["contentMap"] = json!({ language: note["content"].clone() });
        }
        if let Some(updated) = self.updated {
            note["updated"] = json!(timestamp(updated));
        }
        if let Some((url, alt)) = self.image {
            note["attachment"] = json!([{
                "type": "Image",
                "mediaType": "image/jpeg",
                "url": url,
                "name": alt,
            }]);
        }
        if let Some(event) = &self.event {
            note["startTime"] = json!(timestamp(event.starts_at));
            note["endTime"] = json!(timestamp(event.ends_at));
            note["eventStatus"] = json!(format!("https://schema.org/{}", event.status));
            note["eventAttendanceMode"] = json!(format!("https://schema.org/{}", event.attendance));
            if let Some(zone) = event.timezone {
                note["timezone"] = json!(zone);
            }
            if let Some(place) = event.place {
                let mut location = json!({ "type": "Place", "name": place });
                if let Some((latitude, longitude)) = event.coordinates {
                    location["latitude"] = json!(latitude);
                    location["longitude"] = json!(longitude);
                }
                note["location"] = location;
            }
        }
        note
    }
}

/// An activity by `actor` about `object`, addressed to the public and the actor's followers.
pub fn activity(id: &str, kind: &str, actor: &str, followers: &str, object: Value) -> Value {
    json!({
        "@context": context(),
        "id": id,
        "type": kind,
        "actor": actor,
        "to": [PUBLIC],
        "cc": [followers],
        "object": object,
    })
}

/// An object served on its own (not inside an activity), with its context.
pub fn standalone(mut object: Value) -> Value {
    object["@context"] = context();
    object
}

/// What a deleted note leaves behind.
pub fn tombstone(id: &str, deleted: i64) -> Value {
    json!({ "id": id, "type": "Tombstone", "formerType": "Note", "deleted": timestamp(deleted) })
}

/// The answer to a follow (`Accept` or `Reject` of it), addressed to the follower.
pub fn answer(kind: &str, id: &str, actor: &str, follower: &str, follow: Value) -> Value {
    json!({
        "@context": context(),
        "id": id,
        "type": kind,
        "actor": actor,
        "to": [follower],
        "object": follow,
    })
}

/// A collection's first answer: its size, and where its items start (none
/// when they are private, as followers are).
pub fn collection(id: &str, total: u64, first_page: Option<&str>) -> Value {
    let mut collection = json!({
        "@context": AS_CONTEXT,
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
    });
    if let Some(first) = first_page {
        collection["first"] = json!(first);
    }
    collection
}

/// One page of an outbox.
pub fn collection_page(id: &str, part_of: &str, items: Vec<Value>, next: Option<&str>) -> Value {
    let mut page = json!({
        "@context": context(),
        "id": id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    });
    if let Some(next) = next {
        page["next"] = json!(next);
    }
    page
}

/// WebFinger's answer for `acct:{username}@{host}`.
pub fn webfinger(subject: &str, actor: &str, page: &str) -> Value {
    json!({
        "subject": subject,
        "aliases": [actor, page],
        "links": [
            { "rel": "self", "type": ACTIVITY_JSON, "href": actor },
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": page },
        ],
    })
}

/// `/.well-known/nodeinfo`: where NodeInfo 2.1 is.
pub fn nodeinfo_links(href: &str) -> Value {
    json!({ "links": [{ "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": href }] })
}

/// NodeInfo 2.1: what this server is and how much it holds.
pub fn nodeinfo(version: &str, site_name: &str, groups: u64, posts: u64) -> Value {
    json!({
        "version": "2.1",
        "software": {
            "name": "newsfeed",
            "version": version,
            "homepage": "https://github.com/qgis/QGIS-Feed",
        },
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": ["atom1.0", "rss2.0"] },
        "openRegistrations": false,
        "usage": { "users": { "total": groups }, "localPosts": posts },
        "metadata": { "nodeName": site_name },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_escapes_its_title_and_link_and_carries_the_event() {
        let note = Note {
            id: "https://n.example/entries/1",
            attributed_to: "https://n.example/groups/qgis-ch",
            followers: "https://n.example/groups/qgis-ch/followers",
            title: "<script>alert(1)</script> & more",
            body_html: "<p>Thu 18 March, Bern</p><p>Text</p>",
            link: "https://x.example/?a=1&b=\"2\"",
            language: Some("de"),
            published: 0,
            updated: Some(60),
            image: Some(("https://n.example/media/a.jpg", "A map")),
            event: Some(EventFacts {
                starts_at: 3600,
                ends_at: 7200,
                timezone: Some("Europe/Zurich"),
                place: Some("Bern"),
                coordinates: Some((46.9, 7.4)),
                status: "EventScheduled",
                attendance: "OfflineEventAttendanceMode",
            }),
        }
        .object();
        let content = note["content"].as_str().unwrap();
        assert!(content.starts_with(
            "<p><strong>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</strong></p>"
        ));
        assert!(content.contains("href=\"https://x.example/?a=1&amp;b=&quot;2&quot;\""));
        assert_eq!(note["published"], "1970-01-01T00:00:00Z");
        assert_eq!(note["updated"], "1970-01-01T00:01:00Z");
        assert_eq!(note["startTime"], "1970-01-01T01:00:00Z");
        assert_eq!(note["location"]["latitude"], 46.9);
        assert_eq!(note["attachment"][0]["name"], "A map");
        assert_eq!(note["contentMap"]["de"], note["content"]);
        assert_eq!(note["to"][0], PUBLIC);
    }
}
