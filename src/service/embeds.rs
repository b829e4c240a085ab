//! What other sites embed: the oEmbed answer for an entry's or a group's
//! page, a frame of its `/embed/...` page. Live entries come from the feed
//! snapshot (what is not published is not found); groups from the database,
//! as their pages do.

use super::{Services, groups};
use crate::domain::embed::{FrameSize, Target, frame_html};
use crate::domain::limits::{IMAGE_HEIGHT, IMAGE_WIDTH};
use crate::error::{AppError, AppResult};
use crate::feeds::FeedHub;

/// An oEmbed answer of type `rich`, before it is written as JSON.
#[derive(Debug)]
pub struct Oembed {
    pub title: String,
    /// The group, and its page.
    pub author_name: String,
    pub author_url: String,
    /// A frame of the page's `/embed/...` page.
    pub html: String,
    pub size: FrameSize,
    /// A stored picture and its size (what we crop uploads to); pictures
    /// linked from elsewhere have no size we know, so they are left out.
    pub thumbnail: Option<(String, FrameSize)>,
    pub provider_name: String,
    pub provider_url: String,
}

/// What a page of ours shows, as oEmbed names it.
struct Subject {
    title: String,
    group_name: String,
    group_slug: String,
    thumbnail: Option<(String, FrameSize)>,
}

async fn subject(services: &Services, hub: &FeedHub, target: &Target) -> AppResult<Subject> {
    match target {
        Target::Entry(id) => {
            let snapshot = hub.snapshot();
            let item = snapshot
                .live_item(*id)
                .ok_or_else(|| AppError::not_found("published entry"))?;
            let stored = format!("{}/media/", hub.settings().public_url);
            let size = FrameSize {
                width: IMAGE_WIDTH,
                height: IMAGE_HEIGHT,
            };
            Ok(Subject {
                title: item.headline.clone(),
                group_name: item.group.name.clone(),
                group_slug: item.group.slug.clone(),
                thumbnail: item
                    .image
                    .starts_with(&stored)
                    .then(|| (item.image.clone(), size)),
            })
        }
        Target::Group(slug) => {
            let group = groups::get(services, None, slug).await?;
            Ok(Subject {
                title: format!("News from {}", group.name),
                group_name: group.name,
                group_slug: group.slug,
                thumbnail: None,
            })
        }
    }
}

/// The oEmbed answer for `url`, a frame at most `max_width` x `max_height`.
/// A URL that is not an entry or group page of this site, an entry that
/// is not live and an unknown group are all "not found".
pub async fn oembed(
    services: &Services,
    hub: &FeedHub,
    url: &str,
    max_width: Option<u32>,
    max_height: Option<u32>,
) -> AppResult<Oembed> {
    let public_url = &hub.settings().public_url;
    let target = Target::of_url(url, public_url).ok_or_else(|| {
        AppError::NotFound(format!(
            "the url is not an entry or group page of {public_url}"
        ))
    })?;
    let subject = subject(services, hub, &target).await?;
    let size = target.frame_size(max_width, max_height);
    let frame = format!("{public_url}{}", target.frame_path());
    Ok(Oembed {
        html: frame_html(&frame, &subject.title, size),
        title: subject.title,
        author_name: subject.group_name,
        author_url: format!("{public_url}/groups/{}", subject.group_slug),
        size,
        thumbnail: subject.thumbnail,
        provider_name: hub.settings().site_name.clone(),
        provider_url: format!("{public_url}/"),
    })
}
