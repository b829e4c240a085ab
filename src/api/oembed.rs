//! oEmbed (<https://oembed.com>): a consumer (WordPress, Discourse, ...)
//! given the link of an entry or a group turns it into a frame of that
//! page's `/embed/...` page. Pages announce it with a discovery `<link>`.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;
use super::problem::{PROBLEM_JSON, Problem};
use crate::AppState;
use crate::error::AppError;
use crate::service::embeds::{self, Oembed};

pub struct OembedApi;

/// Answers are cached by consumers for this long (seconds): a frame shows
/// the page as it is now, so only its title and size can go stale.
const CACHE_SECS: u32 = 3600;

/// The formats of the oEmbed spec; only JSON is served.
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

/// A refused oEmbed request: the problems of every operation, and `501`
/// for `format=xml`, as the oEmbed spec answers a format it does not serve.
struct OembedRefusal(AppError);

impl From<AppError> for OembedRefusal {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl From<OembedRefusal> for poem::Error {
    fn from(refusal: OembedRefusal) -> Self {
        refusal.0.into()
    }
}

impl ApiResponse for OembedRefusal {
    fn meta() -> MetaResponses {
        let mut meta = AppError::meta();
        meta.responses.push(MetaResponse {
            description: "`format=xml`: only JSON is served",
            status: Some(501),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: PROBLEM_JSON,
                schema: Problem::schema_ref(),
            }],
            headers: vec![],
        });
        meta
    }

    fn register(registry: &mut Registry) {
        AppError::register(registry);
    }
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
        /// `json` (the default); `xml` is answered 501.
        format: Query<Option<OembedFormat>>,
    ) -> Result<OembedReply, OembedRefusal> {
        if *format == Some(OembedFormat::Xml) {
            return Err(AppError::NotImplemented("only format=json is served".into()).into());
        }
        let embed =
            embeds::oembed(&state.services, &state.feeds, &url, *maxwidth, *maxheight).await?;
        Ok(OembedReply::Embed(
            Json(embed.into()),
            "*".into(),
            format!("public, max-age={CACHE_SECS}"),
        ))
    }
}
