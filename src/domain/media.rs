//! Which image an entry may show: our own stored pictures (uploaded through
//! the image pipeline) for everyone, external URLs only from moderators.

use super::authz::Principal;
use super::validate::Refusal;

/// Where stored pictures are served.
pub const MEDIA_PREFIX: &str = "/media/";

/// The path of the stored picture `hash`: `/media/<hash>.jpg`.
pub fn media_path(hash: &str) -> String {
    format!("{MEDIA_PREFIX}{hash}.jpg")
}

/// The hash of a stored picture's path or file name (`<hash>.jpg`), if it is one.
pub fn hash_of(path_or_name: &str) -> Option<&str> {
    let name = path_or_name
        .strip_prefix(MEDIA_PREFIX)
        .unwrap_or(path_or_name);
    let hash = name.strip_suffix(".jpg")?;
    is_hash(hash).then_some(hash)
}

/// A SHA-256 in lower-case hex.
pub fn is_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// Whether `principal` may change an entry's image from `old` to `new`:
/// anyone may keep it, remove it or use a picture we stored (an upload, or
/// the picture of an entry being copied); only moderators may point it
/// elsewhere (QGIS-Feed imports carry URLs), since QGIS desktop fetches the
/// image at once from wherever it points.
pub fn may_set_image(principal: &Principal, old: &str, new: &str) -> Result<(), Refusal> {
    if new == old || new.is_empty() || hash_of(new).is_some() || principal.is_moderator() {
        Ok(())
    } else {
        Err(Refusal::field(
            "image",
            "upload the picture with POST /api/v1/entries/{id}/image; only moderators may link an image",
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::domain::Role;

    #[test]
    fn media_paths_round_trip_and_nothing_else_is_one() {
        let hash = "ab".repeat(32);
        assert_eq!(hash_of(&media_path(&hash)), Some(hash.as_str()));
        assert_eq!(hash_of(&format!("{hash}.jpg")), Some(hash.as_str()));
        assert_eq!(hash_of(&format!("/media/{}.jpg", "AB".repeat(32))), None);
        assert_eq!(hash_of("/media/../../etc/passwd.jpg"), None);
        assert_eq!(hash_of("https://example.org/x.jpg"), None);
    }

    #[test]
    fn only_moderators_link_images() {
        let person = |role| Principal::User {
            id: 1,
            name: "p".into(),
            role,
            memberships: HashMap::new(),
        };
        let editor = person(Role::Member);
        let link = "https://example.org/x.png";
        assert!(may_set_image(&editor, "", link).is_err());
        assert!(may_set_image(&editor, link, link).is_ok());
        assert!(may_set_image(&editor, link, "").is_ok());
        assert!(may_set_image(&editor, link, &media_path(&"0".repeat(64))).is_ok());
        assert!(may_set_image(&person(Role::Moderator), "", link).is_ok());
    }
}
