//! The stylesheets and scripts, compiled into the binary and served under
//! names that carry a hash of their content, so they can be cached forever;
//! and `/embed.js`, which other sites load from a fixed address.

use std::collections::HashMap;
use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Request, Response, handler};
use rust_embed::Embed;
use sha2::{Digest, Sha256};

use crate::feeds::{Caching, Rendered};

#[derive(Embed)]
#[folder = "assets/"]
struct Files;

struct Asset {
    bytes: Vec<u8>,
    content_type: &'static str,
}

struct Assets {
    /// `style.css` -> `/assets/style.1a2b3c4d5e.css`
    urls: HashMap<String, String>,
    /// Hashed file name -> content.
    files: HashMap<String, Asset>,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let mut assets = Assets {
        urls: HashMap::new(),
        files: HashMap::new(),
    };
    for name in Files::iter() {
        let Some(file) = Files::get(&name) else {
            continue;
        };
        let hash = hex::encode(&Sha256::digest(&file.data)[..5]);
        let hashed = match name.rsplit_once('.') {
            Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
            None => format!("{name}.{hash}"),
        };
        assets
            .urls
            .insert(name.to_string(), format!("/assets/{hashed}"));
        assets.files.insert(
            hashed,
            Asset {
                content_type: content_type(&name),
                bytes: file.data.into_owned(),
            },
        );
    }
    assets
});

/// The URL of asset `name` (e.g. `style.css`).
pub fn url(name: &str) -> &'static str {
    ASSETS
        .urls
        .get(name)
        .map_or("/assets/missing", String::as_str)
}

/// `GET /assets/{hashed name}`: immutable, a year in caches.
#[handler]
pub fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.files.get(&name) {
        Some(asset) => Response::builder()
            .content_type(asset.content_type)
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
            .body(asset.bytes.clone()),
        None => missing(),
    }
}

fn missing() -> Response {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .content_type("text/plain; charset=utf-8")
        .body("no such asset\n")
}

/// How long browsers keep `/embed.js` before asking again (with its ETag):
/// a day, as its address never changes with its content.
const EMBED_SCRIPT_MAX_AGE: u32 = 86_400;

/// `GET /embed.js`: the custom elements for other sites, readable from any
/// origin, gzip-coded when accepted, revalidated by its ETag.
#[handler]
pub fn embed_script(request: &Request) -> Response {
    static SCRIPT: LazyLock<Option<(Rendered, Caching)>> = LazyLock::new(|| {
        let file = Files::get("embed.js")?;
        let modified = file.metadata.last_modified().unwrap_or(0);
        let rendered = Rendered::new(
            file.data.into_owned(),
            content_type("embed.js"),
            i64::try_from(modified).unwrap_or(0),
        )
        .with_gzip();
        Some((rendered, Caching::feed(EMBED_SCRIPT_MAX_AGE, false)))
    });
    match &*SCRIPT {
        Some((script, caching)) => script.respond(request.headers(), caching),
        None => missing(),
    }
}
