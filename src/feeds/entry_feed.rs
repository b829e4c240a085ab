//! One entry's documents beside its page, from the snapshot:
//! `/entries/{id}.ics` (its calendar, a file to save) and
//! `/entries/{id}.json` (a JSON Feed of it, which `<newsfeed-entry>` reads).

use std::sync::Arc;

use poem::http::{HeaderValue, header};
use poem::{Endpoint, Request, Response};

use super::calendar::entry_calendar;
use super::render::entry_json;
use super::{FeedHub, Rendered};
use crate::error::AppError;

/// Which document of one entry.
#[derive(Clone, Copy, Debug)]
pub enum EntryDocument {
    /// While the calendars carry the event or meetup.
    Calendar,
    /// While the entry is live.
    JsonFeed,
}

/// `GET /entries/{id}.ics` or `.json` (`id` digits, as the route says),
/// with the feeds' caching headers and CORS; a problem 404 for an id that
/// has no such document.
pub struct EntryFeed {
    hub: Arc<FeedHub>,
    document: EntryDocument,
}

impl EntryFeed {
    pub fn new(hub: Arc<FeedHub>, document: EntryDocument) -> Self {
        Self { hub, document }
    }

    fn render(&self, id: i64) -> Option<Rendered> {
        match self.document {
            EntryDocument::Calendar => entry_calendar(&self.hub, id),
            EntryDocument::JsonFeed => entry_json(&self.hub, id),
        }
    }
}

impl Endpoint for EntryFeed {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let found = request
            .raw_path_param("id")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| Some((id, self.render(id)?)));
        let Some((id, rendered)) = found else {
            return Err(AppError::not_found(match self.document {
                EntryDocument::Calendar => "published event or meetup",
                EntryDocument::JsonFeed => "published entry",
            })
            .into());
        };
        let mut response = rendered.respond(request.headers(), &self.hub.settings.feed_caching);
        if let EntryDocument::Calendar = self.document {
            if let Ok(disposition) =
                HeaderValue::from_str(&format!("attachment; filename=\"entry-{id}.ics\""))
            {
                response
                    .headers_mut()
                    .insert(header::CONTENT_DISPOSITION, disposition);
            }
        }
        Ok(response)
    }
}
