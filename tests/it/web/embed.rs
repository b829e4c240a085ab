//! Embeds for other sites: `/embed.js`, the framable pages under `/embed/`,
//! one entry's JSON Feed, oEmbed and its discovery links, and the group
//! page's snippets, as a host page and its browser get them.

use std::io::Read as _;

use flate2::read::GzDecoder;
use serde_json::{Value, json};

use crate::common::{self, Reply, TestApp, World};
use crate::feeds::support::fetch_raw;
use crate::media::{images, pictures};
use crate::web::support::Browser;

/// The size budget of `/embed.js` as sent gzip-coded.
const SCRIPT_BUDGET_BYTES: usize = 10 * 1024;
const SITE: &str = "QGIS User Groups";
const HOSTILE: &str = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";

fn builder() -> common::TestAppBuilder {
    World::builder().config(|config| config.site_name = Some(SITE.into()))
}

fn public_url(app: &TestApp) -> String {
    app.state.config.public_base_url()
}

/// A meetup of `alpha` in `language` a month from now, live now.
async fn meetup(world: &World, title: &str, language: &str) -> i64 {
    let start = chrono::DateTime::from_timestamp(common::now() + 30 * 86_400, 0).unwrap();
    let end = start + chrono::Duration::hours(3);
    world
        .publish(
            json!({"kind": "meetup", "title": title, "language": language,
                   "starts_at": start.to_rfc3339(), "ends_at": end.to_rfc3339(),
                   "timezone": "Europe/Berlin", "location_name": "Bonn"}),
            json!({}),
        )
        .await
}

async fn oembed(app: &TestApp, query: &str) -> Reply {
    app.get(&format!("/oembed?{query}"), None).await
}

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[track_caller]
fn assert_framable(reply: &Reply, path: &str) {
    let policy = reply.header("content-security-policy").unwrap_or_default();
    assert!(
        policy.contains("frame-ancestors *"),
        "{path}: framable by any site: {policy}"
    );
    assert_eq!(reply.header("x-frame-options"), None, "{path}");
    assert_eq!(reply.header("set-cookie"), None, "{path}: no cookie");
}

#[track_caller]
fn assert_not_framable(reply: &Reply, path: &str) {
    let policy = reply.header("content-security-policy").unwrap_or_default();
    assert!(
        policy.contains("frame-ancestors 'none'"),
        "{path}: {policy}"
    );
    assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
}

db_test!(
    only_the_embed_pages_may_be_framed,
    builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
            .publish(json!({"title": "Framed news"}), json!({}))
            .await;
        for path in [format!("/embed/entries/{id}"), "/embed/groups/alpha".into()] {
            let reply = world.app.get(&path, None).await;
            reply.expect(200);
            assert!(reply.text.contains("Framed news"), "{path}: {}", reply.text);
            assert_framable(&reply, &path);
            let caching = reply.header("cache-control").unwrap_or_default();
            assert!(caching.starts_with("public, max-age="), "{path}: {caching}");
        }
        // Their "not found" pages may be framed too: the host shows them in place.
        for path in [
            "/embed/entries/999999",
            "/embed/groups/nobody",
            "/embed/entries/x",
        ] {
            let reply = world.app.get(path, None).await;
            reply.expect(404);
            assert!(
                reply
                    .header("content-type")
                    .unwrap_or_default()
                    .starts_with("text/html")
            );
            assert_framable(&reply, path);
        }
        for path in [
            "/".to_string(),
            format!("/entries/{id}"),
            "/groups/alpha".into(),
            "/groups".into(),
            "/login".into(),
            "/embed".into(),
            "/no/such/page".into(),
        ] {
            let page = world
                .app
                .client
                .get(&path)
                .header("accept", "text/html")
                .send()
                .await;
            let reply = Reply::from(page.0).await;
            assert_not_framable(&reply, &path);
        }
    }
);

db_test!(
    the_embed_script_fits_its_budget_and_any_site_may_load_it,
    |app: TestApp| async move {
        let plain = fetch_raw(&app, "GET", "/embed.js", &[]).await;
        assert_eq!(plain.status, 200);
        assert_eq!(
            plain.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(plain.header("access-control-allow-origin"), Some("*"));
        assert!(
            plain
                .header("cache-control")
                .is_some_and(|value| value.starts_with("public, max-age=86400,"))
        );
        let script = String::from_utf8(plain.body.clone()).expect("UTF-8");
        for needle in [
            "customElements.define(\"newsfeed-entries\"",
            "customElements.define(\"newsfeed-entry\"",
            "attachShadow",
            "credentials: \"omit\"",
            "\"newsfeed:height\"",
        ] {
            assert!(script.contains(needle), "{needle} in /embed.js");
        }

        let gzip = fetch_raw(&app, "GET", "/embed.js", &[("accept-encoding", "gzip")]).await;
        assert_eq!(gzip.header("content-encoding"), Some("gzip"));
        assert!(
            gzip.body.len() <= SCRIPT_BUDGET_BYTES,
            "/embed.js is {} bytes gzipped, over the budget of {SCRIPT_BUDGET_BYTES}",
            gzip.body.len()
        );
        let mut decoded = Vec::new();
        GzDecoder::new(gzip.body.as_slice())
            .read_to_end(&mut decoded)
            .expect("gzip");
        assert_eq!(decoded, plain.body, "the gzip body is the script");

        let etag = plain.header("etag").expect("an ETag");
        let again = fetch_raw(&app, "GET", "/embed.js", &[("if-none-match", etag)]).await;
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
    }
);

db_test!(
    an_embedded_group_lists_what_is_live_as_asked,
    builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let german = meetup(&world, "Treffen in Bonn", "de").await;
        let french = meetup(&world, "Rencontre à Bonn", "fr").await;
        let hostile = world
            .publish(json!({"title": HOSTILE, "language": "de"}), json!({}))
            .await;
        let pending = world.pending_entry("Still in review").await;
        let gone = world
            .publish(json!({"title": "Taken back"}), json!({}))
            .await;
        app.post(
            &format!("/api/v1/moderation/entries/{gone}/unpublish"),
            Some(&world.moderator),
            json!({"comment": "gone"}),
        )
        .await
        .expect(200);

        let all = app.get("/embed/groups/alpha", None).await;
        all.expect(200);
        for id in [german, french, hostile] {
            assert!(
                all.text.contains(&format!("href=\"/entries/{id}\"")),
                "{id}: {}",
                all.text
            );
        }
        for id in [pending, gone] {
            assert!(
                !all.text.contains(&format!("/entries/{id}\"")),
                "{id} is not live"
            );
        }
        assert!(!all.text.contains("<script>alert"), "{}", all.text);
        assert!(
            all.text.contains("&#34;&#62;&#60;script&#62;alert(1)"),
            "{}",
            all.text
        );
        assert!(all.text.contains("<ul class=\"entries\">"));
        assert!(all.text.contains("class=\"theme-light\""));
        assert!(
            all.text.contains("Meetup · <time>"),
            "its date: {}",
            all.text
        );
        assert!(all.text.contains("embed-frame."), "the sizing script");
        assert!(!all.text.contains("class=\"site\""), "no site header");

        let meetups = app
            .get(
                "/embed/groups/alpha?kind=meetup&lang=de&limit=5&theme=dark",
                None,
            )
            .await;
        meetups.expect(200);
        assert!(meetups.text.contains(&format!("/entries/{german}\"")));
        assert!(
            !meetups.text.contains(&format!("/entries/{french}\"")),
            "not in German"
        );
        assert!(
            !meetups.text.contains(&format!("/entries/{hostile}\"")),
            "not a meetup"
        );
        assert!(meetups.text.contains("class=\"theme-dark\""));
        let one = app.get("/embed/groups/alpha?limit=1", None).await;
        assert_eq!(one.text.matches("<li>").count(), 1, "{}", one.text);
        let empty = app.get("/embed/groups/beta", None).await;
        empty.expect(200);
        assert!(
            empty
                .text
                .contains("Nothing from Group beta is published right now.")
        );

        for query in [
            "limit=0",
            "limit=101",
            "limit=many",
            "theme=pink",
            "kind=party",
            "lang=english!",
        ] {
            let refused = app.get(&format!("/embed/groups/alpha?{query}"), None).await;
            refused.expect(400);
            assert_framable(&refused, query);
        }
    }
);

db_test!(
    an_embedded_entry_is_shown_while_it_is_live,
    builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let id = world
        .publish(json!({"title": HOSTILE, "content": "<p>Come along.</p>", "url": "https://example.org/more",
                        "call_to_action": "Sign up"}), json!({}))
        .await;
        let page = app
            .get(&format!("/embed/entries/{id}?theme=auto"), None)
            .await;
        page.expect(200);
        assert!(!page.text.contains("<script>alert"), "{}", page.text);
        assert!(
            page.text.contains("<title>&#34;&#62;&#60;script&#62;"),
            "{}",
            page.text
        );
        assert!(page.text.contains("<p>Come along.</p>"));
        assert!(
            page.text
                .contains("href=\"https://example.org/more\" rel=\"noopener\">Sign up</a>")
        );
        assert!(page.text.contains("class=\"theme-auto\""));
        assert!(
            page.text.contains("<base target=\"_blank\">"),
            "links leave the frame"
        );
        assert!(
            page.text.contains(&format!("{SITE}</p>")),
            "names the site: {}",
            page.text
        );

        let draft = app.draft(&world.editor, "alpha", "Not yet").await["id"]
            .as_i64()
            .unwrap();
        let pending = world.pending_entry("In review").await;
        for other in [draft, pending] {
            app.get(&format!("/embed/entries/{other}"), None)
                .await
                .expect(404);
        }
        app.post(
            &format!("/api/v1/moderation/entries/{id}/unpublish"),
            Some(&world.moderator),
            json!({"comment": "gone"}),
        )
        .await
        .expect(200);
        let gone = app.get(&format!("/embed/entries/{id}"), None).await;
        gone.expect(404);
        assert!(
            gone.text.contains("Published entry not found."),
            "{}",
            gone.text
        );
    }
);

db_test!(
    one_entry_has_a_json_feed_for_the_element,
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let id = world
            .publish(json!({"title": "Only me", "language": "de"}), json!({}))
            .await;
        world
            .publish(json!({"title": "Someone else"}), json!({}))
            .await;
        let reply = app.get(&format!("/entries/{id}.json"), None).await;
        reply.expect(200);
        assert_eq!(
            reply.header("content-type"),
            Some("application/feed+json; charset=utf-8")
        );
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        assert!(reply.header("etag").is_some());
        let feed = reply.json();
        assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
        let items = feed["items"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["title"], "Only me");
        assert_eq!(items[0]["language"], "de");
        assert!(
            items[0]["id"]
                .as_str()
                .unwrap()
                .ends_with(&format!(":entry/{id}"))
        );
        assert_eq!(
            feed["feed_url"],
            format!("{}/entries/{id}.json", public_url(app))
        );

        let draft = app.draft(&world.editor, "alpha", "Not yet").await["id"]
            .as_i64()
            .unwrap();
        app.get(&format!("/entries/{draft}.json"), None)
            .await
            .expect_problem(404, "not-found");
    }
);

/// The oEmbed answer for `page` (a path of ours), as JSON.
async fn oembed_of(app: &TestApp, page: &str, extra: &str) -> Value {
    let url = format!("{}{page}", public_url(app));
    let reply = oembed(app, &format!("url={}&format=json{extra}", encoded(&url))).await;
    reply.expect(200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    reply.json()
}

db_test!(
    oembed_turns_entry_and_group_links_into_frames,
    builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let base = public_url(app);
        let id = world
            .publish(json!({"title": "Map night"}), json!({}))
            .await;
        let entry = oembed_of(app, &format!("/entries/{id}"), "").await;
        assert_eq!(entry["type"], "rich");
        assert_eq!(entry["version"], "1.0");
        assert_eq!(entry["title"], "Map night");
        assert_eq!(entry["provider_name"], SITE);
        assert_eq!(entry["provider_url"], format!("{base}/"));
        assert_eq!(entry["author_name"], "Group alpha");
        assert_eq!(entry["author_url"], format!("{base}/groups/alpha"));
        assert_eq!(
            (entry["width"].as_u64(), entry["height"].as_u64()),
            (Some(560), Some(480))
        );
        assert!(
            entry.get("thumbnail_url").is_none(),
            "no picture, no thumbnail"
        );
        let html = entry["html"].as_str().unwrap();
        assert!(
        html.starts_with(&format!("<iframe src=\"{base}/embed/entries/{id}\" width=\"560\" height=\"480\" title=\"Map night\"")),
        "{html}"
    );
        // The frame it names is there and may be framed.
        assert_framable(
            &app.get(&format!("/embed/entries/{id}"), None).await,
            "frame",
        );

        // Within the consumer's limits, and the same for any form of the page's address.
        let small = oembed_of(
            app,
            &format!("/entries/{id}/?utm=x#top"),
            "&maxwidth=300&maxheight=2000",
        )
        .await;
        assert_eq!(
            (small["width"].as_u64(), small["height"].as_u64()),
            (Some(300), Some(480))
        );
        assert!(
            small["html"]
                .as_str()
                .unwrap()
                .contains("width=\"300\" height=\"480\"")
        );

        let group = oembed_of(app, "/groups/alpha", "&maxheight=200").await;
        assert_eq!(group["title"], "News from Group alpha");
        assert_eq!(
            (group["width"].as_u64(), group["height"].as_u64()),
            (Some(560), Some(200))
        );
        assert!(
            group["html"]
                .as_str()
                .unwrap()
                .contains(&format!("src=\"{base}/embed/groups/alpha\""))
        );

        // A stored picture is the thumbnail, with the size it is stored at.
        let pictured = app.draft(&world.editor, "alpha", "Pictured").await["id"]
            .as_i64()
            .unwrap();
        pictures::upload(
            app,
            &world.editor,
            pictured,
            1,
            images::blank_png(600, 400),
            "p.png",
        )
        .await
        .expect(200);
        app.submit_and_approve(&world.editor, &world.moderator, pictured, json!({}))
            .await;
        let with_picture = oembed_of(app, &format!("/entries/{pictured}"), "").await;
        let thumbnail = with_picture["thumbnail_url"].as_str().expect("a thumbnail");
        assert!(
            thumbnail.starts_with(&format!("{base}/media/")),
            "{thumbnail}"
        );
        assert_eq!(with_picture["thumbnail_width"], 500);
        assert_eq!(with_picture["thumbnail_height"], 354);
    }
);

db_test!(
    oembed_refuses_what_it_cannot_embed,
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let base = public_url(app);
        let id = world.publish(json!({"title": "Live"}), json!({})).await;
        let draft = app.draft(&world.editor, "alpha", "Not yet").await["id"]
            .as_i64()
            .unwrap();
        let url = encoded(&format!("{base}/entries/{id}"));

        for query in [
            String::new(),
            format!("url={url}&format=yaml"),
            format!("url={url}&maxwidth=0"),
            format!("url={url}&maxwidth=wide"),
            format!("url={url}&maxheight=-5"),
        ] {
            oembed(app, &query).await.expect_problem(400, "bad-request");
        }
        for page in [
            "https://elsewhere.example/entries/1".to_string(),
            format!("{base}/entries/{draft}"),
            format!("{base}/entries/999999"),
            format!("{base}/groups/nobody"),
            format!("{base}/admin/groups/alpha"),
            format!("{base}/"),
            format!("{base}/entries/{id}/edit"),
            "javascript:alert(1)".into(),
        ] {
            oembed(app, &format!("url={}", encoded(&page)))
                .await
                .expect_problem(404, "not-found");
        }
    }
);

db_test!(oembed_escapes_hostile_titles, |app: TestApp| async move {
    let world = World::new(app).await;
    let id = world.publish(json!({"title": HOSTILE}), json!({})).await;
    let answer = oembed_of(&world.app, &format!("/entries/{id}"), "").await;
    assert_eq!(answer["title"], HOSTILE, "JSON carries the title as text");
    let html = answer["html"].as_str().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(
        html.contains("title=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;\""),
        "{html}"
    );
    // One element only: the frame.
    assert_eq!(html.matches('<').count(), 2, "{html}");

    // The XML form, read by a parser that is not ours, says the same.
    let url = encoded(&format!("{}/entries/{id}", public_url(&world.app)));
    let xml = oembed(&world.app, &format!("url={url}&format=xml")).await;
    xml.expect(200);
    assert_eq!(xml.header("content-type"), Some("text/xml; charset=utf-8"));
    assert_eq!(xml.header("access-control-allow-origin"), Some("*"));
    let read = common::python_reads(
        "import json, sys, xml.etree.ElementTree as ET\n\
         root = ET.fromstring(sys.stdin.buffer.read())\n\
         print(json.dumps({'root': root.tag, **{child.tag: child.text for child in root}}))",
        xml.text.as_bytes(),
    );
    assert_eq!(read["root"], "oembed");
    for field in [
        "type",
        "version",
        "title",
        "author_name",
        "author_url",
        "html",
    ] {
        assert_eq!(read[field], answer[field], "{field} in {}", xml.text);
    }
    for field in ["width", "height", "cache_age"] {
        assert_eq!(read[field], answer[field].to_string(), "{field}");
    }
});

db_test!(
    entry_and_group_pages_announce_oembed,
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let base = public_url(app);
        let id = world
            .publish(json!({"title": "Discover me"}), json!({}))
            .await;
        let browser = Browser::new(app);
        for (page, title) in [
            (format!("/entries/{id}"), "Discover me"),
            ("/groups/alpha".to_string(), "News from Group alpha"),
        ] {
            let html = browser.get(&page).await;
            html.expect(200);
            let href = format!(
                "{base}/oembed?url={}&#38;format=json",
                encoded(&format!("{base}{page}"))
            );
            let link = format!(
                "<link rel=\"alternate\" type=\"application/json+oembed\" title=\"{title}\" href=\"{href}\">"
            );
            html.expect_text(&link);
            // The link works as a consumer follows it.
            let path = href.replace("&#38;", "&").replace(&base, "");
            app.get(&path, None).await.expect(200);
        }
    }
);

db_test!(
    a_groups_page_offers_snippets_and_a_preview,
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let base = public_url(app);
        app.post(
        "/api/v1/groups",
        Some(&world.admin),
        json!({"slug": "evil", "name": "Evil </textarea><script>alert(1)</script>", "country": "DE"}),
    )
    .await
    .expect(201);
        let browser = Browser::new(app);
        let page = browser.get("/groups/alpha").await;
        page.expect(200)
            .expect_text("Embed the news of Group alpha on your site")
            .expect_text(&format!(
                "&#60;script src=&#34;{base}/embed.js&#34; async&#62;&#60;/script&#62;"
            ))
            .expect_text("&#60;newsfeed-entries group=&#34;alpha&#34;")
            .expect_text(&format!(
                "&#60;iframe src=&#34;{base}/embed/groups/alpha&#34;"
            ))
            .expect_text("newsfeed:height")
            .expect_text(&format!("value=\"{base}/groups/alpha\""))
            .expect_text("<iframe src=\"/embed/groups/alpha\"")
            .expect_text("data-copy=\"embed-script\"")
            .expect_text("data-copy=\"embed-frame\"");
        let evil = browser.get("/groups/evil").await;
        evil.expect(200);
        assert!(!evil.text.contains("</textarea><script>"), "{}", evil.text);
        // In the frame snippet the name is escaped for the host's HTML, then for ours.
        evil.expect_text(
            "title=&#34;News from Evil &#38;lt;/textarea&#38;gt;&#38;lt;script&#38;gt;",
        );
    }
);
