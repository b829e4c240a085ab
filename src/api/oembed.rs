//! oEmbed (<https://oembed.com>): a consumer (WordPress, Discourse, ...)
//! given the link of an entry or a group turns it into a frame of that
//! page's `/embed/...` page. Pages announce it with a discovery `<link>`.

use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;
use crate::AppState;
use crate::domain::sanitize::escape_html;
use crate::error::AppResult;
use crate::service::embeds::{self, Oembed};

pub struct OembedApi;

/// Answers are cached by consumers for this long (seconds): a frame shows
/// the page as it is now, so only its title and size can go stale.
const CACHE_SECS: u32 = 3600;

/// The formats of the oEmbed spec.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
enum OembedFormat {
    Json,
    Xml,
}

/// An oEmbed 1.0 response of type `rich`.
#[derive(Object, Debug)]
#[oai(rename = "Oembed")]
struct OembedOut {
    /// Always `rich`.
    #[oai(rename = "type")]
    kind: String,
    /// Always `1.0`.
    version: String,
    /// The entry's title (with `Cancelled: ` or `Postponed: ` when so), or
    /// `News from <group>`.
    title: String,
    /// The group.
    author_name: String,
    /// The group's page.
    author_url: String,
    /// What the site calls itself (`--site-name`).
    provider_name: String,
    /// The site's start page.
    provider_url: String,
    /// An `<iframe>` of the page's `/embed/...` page, which posts its
    /// height to the host (`{type: "newsfeed:height", height}`).
    html: String,
    /// Width of the frame in pixels, at most `maxwidth`.
    width: u32,
    /// Height of the frame in pixels, at most `maxheight`.
    height: u32,
    /// How long the answer may be cached, in seconds.
    cache_age: u32,
    /// The entry's picture, when it is one stored here.
    #[oai(skip_serializing_if_is_none)]
    thumbnail_url: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    thumbnail_width: Option<u32>,
    #[oai(skip_serializing_if_is_none)]
    thumbnail_height: Option<u32>,
}

impl From<Oembed> for OembedOut {
    fn from(embed: Oembed) -> Self {
        let (thumbnail_url, thumbnail_size) = embed.thumbnail.unzip();
        Self {
            kind: "rich".into(),
            version: "1.0".into(),
            title: embed.title,
            author_name: embed.author_name,
            author_url: embed.author_url,
            provider_name: embed.provider_name,
            provider_url: embed.provider_url,
            html: embed.html,
            width: embed.size.width,
            height: embed.size.height,
            cache_age: CACHE_SECS,
            thumbnail_url,
            thumbnail_width: thumbnail_size.map(|size| size.width),
            thumbnail_height: thumbnail_size.map(|size| size.height),
        }
    }
}

impl OembedOut {
    /// The same answer in the spec's XML form: one element per field,
    /// text escaped for XML.
    fn to_xml(&self) -> String {
        let texts = [
            ("type", Some(&self.kind)),
            ("version", Some(&self.version)),
            ("title", Some(&self.title)),
            ("author_name", Some(&self.author_name)),
            ("author_url", Some(&self.author_url)),
            ("provider_name", Some(&self.provider_name)),
            ("provider_url", Some(&self.provider_url)),
            ("html", Some(&self.html)),
            ("thumbnail_url", self.thumbnail_url.as_ref()),
        ];
        let numbers = [
            ("width", Some(self.width)),
            ("height", Some(self.height)),
            ("cache_age", Some(self.cache_age)),
            ("thumbnail_width", self.thumbnail_width),
            ("thumbnail_height", self.thumbnail_height),
        ];
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n<oembed>\n",
        );
        for (name, text) in texts {
            if let Some(text) = text {
                xml.push_str(&format!("  <{name}>{}</{name}>\n", escape_html(text)));
            }
        }
        for (name, number) in numbers {
            if let Some(number) = number {
                xml.push_str(&format!("  <{name}>{number}</{name}>\n"));
            }
        }
        xml.push_str("</oembed>\n");
        xml
    }
}

#[derive(ApiResponse)]
enum OembedReply {
    /// The embed.
    #[oai(status = 200)]
    Embed(
        Json<OembedOut>,
        /// `*`: pages may ask from a browser too.
        #[oai(header = "Access-Control-Allow-Origin")]
        String,
        /// `public, max-age=3600`.
        #[oai(header = "Cache-Control")]
        String,
    ),
}

/// The embed as JSON (the derived answer) or, for `format=xml`, as XML
/// under the same status and headers.
enum OembedAnswer {
    Json(Box<OembedReply>),
    Xml(String),
}

impl ApiResponse for OembedAnswer {
    fn meta() -> MetaResponses {
        let mut meta = OembedReply::meta();
        for response in &mut meta.responses {
            response.content.push(MetaMediaType {
                content_type: "text/xml",
                schema: String::schema_ref(),
            });
        }
        meta
    }

    fn register(registry: &mut Registry) {
        OembedReply::register(registry);
    }
}

impl IntoResponse for OembedAnswer {
    fn into_response(self) -> Response {
        match self {
            Self::Json(reply) => reply.into_response(),
            Self::Xml(body) => Response::builder()
                .content_type("text/xml; charset=utf-8")
                .header("Access-Control-Allow-Origin", "*")
                .header("Cache-Control", cache_control())
                .body(body),
        }
    }
}

fn cache_control() -> String {
    format!("public, max-age={CACHE_SECS}")
}

#[OpenApi(tag = "ApiTags::Embeds")]
impl OembedApi {
    /// oEmbed for an entry's page (`/entries/{id}`, while it is published)
    /// or a group's page (`/groups/{slug}`): a frame of its `/embed/...`
    /// page. Any other URL, and entries not published, are not found.
    #[oai(path = "/oembed", method = "get")]
    async fn oembed(
        &self,
        state: Data<&AppState>,
        /// The page's address, as a reader would paste it.
        url: Query<String>,
        /// Widest frame the consumer can show, in pixels.
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
        maxwidth: Query<Option<u32>>,
        /// Highest frame the consumer can show, in pixels.
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
        maxheight: Query<Option<u32>>,
        /// `json` (the default) or `xml`.
        format: Query<Option<OembedFormat>>,
    ) -> AppResult<OembedAnswer> {
        let embed: OembedOut =
            embeds::oembed(&state.services, &state.feeds, &url, *maxwidth, *maxheight)
                .await?
                .into();
        Ok(match *format {
            Some(OembedFormat::Xml) => OembedAnswer::Xml(embed.to_xml()),
            _ => OembedAnswer::Json(Box::new(OembedReply::Embed(
                Json(embed),
                "*".into(),
                cache_control(),
            ))),
        })
    }
}
