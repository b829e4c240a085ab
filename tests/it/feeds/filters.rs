//! The feeds for other sites: `group`, `kind`, `lang`, `country`, `limit`
//! and `before` on every feed and on `?json=1`, paging by `next_url` and
//! `rel="next"`, refusals, CDN caching, and QGIS agents left as they were.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::common::{self, World, now};
use crate::feeds::support::{NEW_QGIS, OLD_QGIS, fetch, fetch_raw, rfc3339};

const FORMATS: [&str; 4] = ["json", "rss", "atom", "ics"];
const GZIP: (&str, &str) = ("accept-encoding", "gzip");
const SWR: &str = "public, max-age=60, stale-while-revalidate=600, stale-if-error=86400";

/// One published entry and what the filters look at.
#[derive(Clone, Debug)]
struct Published {
    id: i64,
    group: &'static str,
    kind: &'static str,
    language: Option<&'static str>,
}

impl Published {
    fn dated(&self) -> bool {
        matches!(self.kind, "event" | "meetup")
    }
}

/// Creates an entry in `group` as its editor and approves it with `approval`.
async fn publish_in(world: &World, group: &str, fields: Value, approval: Value) -> i64 {
    let editor = if group == "beta" {
        &world.other_editor
    } else {
        &world.editor
    };
    let mut body = json!({"group": group, "kind": "announcement", "title": "News",
                          "content": "<p>Some news</p>"});
    for (key, value) in fields.as_object().expect("object") {
        body[key] = value.clone();
    }
    let id = world
        .app
        .post("/api/v1/entries", Some(editor), body)
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .expect("id");
    world
        .app
        .submit_and_approve(editor, &world.moderator, id, approval)
        .await;
    id
}

/// `beta` moves to Switzerland (`alpha` stays in Germany); each group
/// publishes an announcement and a dated entry in chosen languages.
async fn seed(world: &World) -> Vec<Published> {
    world
        .app
        .patch(
            "/api/v1/groups/beta",
            Some(&world.admin),
            json!({"country": "CH"}),
        )
        .await
        .expect(200);
    let starts = now() + 86_400;
    let dated = |kind: &str, title: &str| {
        json!({"kind": kind, "title": title, "starts_at": rfc3339(starts),
               "ends_at": rfc3339(starts + 7200), "timezone": "Europe/Berlin",
               "location_name": "Hall 1"})
    };
    let mut seeded = Vec::new();
    for (group, kind, language, mut fields) in [
        (
            "alpha",
            "announcement",
            Some("en"),
            json!({"title": "Alpha news"}),
        ),
        ("alpha", "event", None, dated("event", "Alpha event")),
        (
            "alpha",
            "meetup",
            Some("de"),
            dated("meetup", "Alpha meetup"),
        ),
        (
            "beta",
            "announcement",
            Some("fr"),
            json!({"title": "Beta news"}),
        ),
        ("beta", "event", Some("fr"), dated("event", "Beta event")),
    ] {
        if let Some(language) = language {
            fields["language"] = json!(language);
        }
        let id = publish_in(world, group, fields, json!({})).await;
        seeded.push(Published {
            id,
            group,
            kind,
            language,
        });
    }
    seeded
}

/// What a feed page lists, in order, and where its next page is.
#[derive(Debug)]
struct Page {
    ids: Vec<i64>,
    next: Option<String>,
}

fn id_of(tag: &str) -> i64 {
    tag.rsplit(['/', '-'])
        .next()
        .and_then(|id| id.split('@').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no entry id in {tag:?}"))
}

/// The path and query of an absolute link, to request it from the test app.
fn local(url: &str) -> String {
    let url = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(url.origin().ascii_serialization(), "http://127.0.0.1:8080");
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    }
}

/// GET `path` as a site would and read the page in whatever format it is.
async fn page(app: &common::TestApp, path: &str) -> Page {
    let reply = fetch(app, path, &[("origin", "https://group.example.net")]).await;
    reply.expect(200);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("*"),
        "{path}"
    );
    let content_type = reply.header("content-type").unwrap_or_default();
    if content_type.starts_with("application/feed+json") {
        let feed = reply.json();
        assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
        let ids = feed["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| id_of(item["id"].as_str().expect("id")))
            .collect();
        let next = feed.get("next_url").map(|url| {
            let url = url.as_str().expect("next_url is a string");
            assert!(url.contains("before="), "{url}");
            url.to_string()
        });
        return Page { ids, next };
    }
    if content_type.starts_with("text/calendar") {
        let ids = reply
            .text
            .lines()
            .filter_map(|line| line.strip_prefix("UID:"))
            .map(id_of)
            .collect();
        return Page { ids, next: None };
    }
    let feed = feed_rs::parser::parse(reply.text.as_bytes())
        .unwrap_or_else(|e| panic!("{path}: {e}\n{}", reply.text));
    let next: Vec<String> = feed
        .links
        .iter()
        .filter(|link| link.rel.as_deref() == Some("next"))
        .map(|link| link.href.clone())
        .collect();
    assert!(next.len() <= 1, "{path}: {next:?}");
    Page {
        ids: feed.entries.iter().map(|entry| id_of(&entry.id)).collect(),
        next: next.into_iter().next(),
    }
}

/// The pages from `path` on, following the next links to the end: each
/// page's path and what it lists.
async fn pages(app: &common::TestApp, path: &str) -> Vec<(String, Page)> {
    let (mut pages, mut path) = (Vec::new(), path.to_string());
    loop {
        let page = page(app, &path).await;
        assert!(pages.len() < 50, "{path}: pages on and on");
        let next = page.next.as_deref().map(local);
        pages.push((path, page));
        match next {
            Some(next) => path = next,
            None => return pages,
        }
    }
}

/// Every id the pages from `path` list, and how many pages there are.
async fn walk(app: &common::TestApp, path: &str) -> (Vec<i64>, usize) {
    let pages = pages(app, path).await;
    let count = pages.len();
    let ids = pages.into_iter().flat_map(|(_, page)| page.ids).collect();
    (ids, count)
}

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}

db_test!(
    each_filter_on_each_format,
    World::builder(),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let seeded = seed(&world).await;
        type Rule = fn(&Published) -> bool;
        let filters: [(&str, Rule); 9] = [
            ("group=beta", |p| p.group == "beta"),
            ("group=BETA,alpha", |_| true),
            ("kind=event", |p| p.kind == "event"),
            ("kind=meetup&kind=announcement", |p| p.kind != "event"),
            // Entries for every language go to everyone.
            ("lang=fr_CH", |p| p.language.is_none_or(|l| l == "fr")),
            ("country=ch", |p| p.group == "beta"),
            ("country=DE,ch", |_| true),
            ("country=AT", |_| false),
            ("group=alpha&kind=meetup,event&lang=de&country=DE", |p| {
                p.group == "alpha" && p.dated() && p.language.is_none_or(|l| l == "de")
            }),
        ];
        for format in FORMATS {
            let shown = |p: &Published| format != "ics" || p.dated();
            let everything = page(app, &format!("/feed.{format}")).await;
            assert_eq!(
                sorted(everything.ids),
                sorted(seeded.iter().filter(|p| shown(p)).map(|p| p.id).collect()),
                "{format}"
            );
            for (query, rule) in filters {
                let expected: Vec<i64> = seeded
                    .iter()
                    .filter(|p| shown(p) && rule(p))
                    .map(|p| p.id)
                    .collect();
                let path = format!("/feed.{format}?{query}");
                assert_eq!(
                    sorted(page(app, &path).await.ids),
                    sorted(expected),
                    "{path}"
                );
                // A group's path names the group; the rest filters within it.
                let query = query.replace("group=alpha&", "");
                if !query.contains("group=") {
                    for group in ["alpha", "beta"] {
                        let path = format!("/groups/{group}/feed.{format}?{query}");
                        let expected: Vec<i64> = seeded
                            .iter()
                            .filter(|p| shown(p) && p.group == group && rule(p))
                            .map(|p| p.id)
                            .collect();
                        assert_eq!(
                            sorted(page(app, &path).await.ids),
                            sorted(expected),
                            "{path}"
                        );
                    }
                }
            }
            // `limit` caps every format, the calendars too.
            let one = page(app, &format!("/feed.{format}?limit=1")).await;
            assert_eq!(one.ids.len(), 1, "{format}");
            assert_eq!(one.next.is_some(), format != "ics", "{format}");
            let all = page(app, &format!("/feed.{format}?limit=100")).await;
            assert!(all.next.is_none(), "{format}");
        }
        // `?json=1` for a site: the JSON Feed, filtered alike.
        let site = page(app, "/?json=1&country=CH&kind=event").await;
        assert_eq!(
            site.ids,
            seeded
                .iter()
                .filter(|p| p.group == "beta" && p.kind == "event")
                .map(|p| p.id)
                .collect::<Vec<_>>()
        );
    }
);

db_test!(
    paging_lists_every_entry_once,
    // A small default page, so that the plain feeds page too.
    World::builder().config(|config| config.feed_max_items = 3),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let now = now();
        // Sticky ones and priorities come first whatever their age, so the
        // cursor must follow feed order, not the publication date alone.
        let approvals = [
            json!({}),
            json!({"sticky": true}),
            json!({"priority": 5}),
            json!({}),
            json!({"sticky": true, "priority": 2}),
            json!({}),
            json!({}),
        ];
        let mut published = Vec::new();
        for (n, approval) in approvals.into_iter().enumerate() {
            let mut approval = approval;
            // Two at the same instant: the id breaks the tie.
            let age = 600 * (n as i64 / 2 + 1);
            approval["publish_from"] = json!(rfc3339(now - age));
            let group = if n % 3 == 2 { "beta" } else { "alpha" };
            let title = format!("Entry {n}");
            published.push(publish_in(&world, group, json!({"title": title}), approval).await);
        }
        let full = page(app, "/feed.json?limit=100").await;
        assert_eq!(sorted(full.ids.clone()), sorted(published.clone()));
        // The default page is `--feed-max-items`.
        let first = page(app, "/feed.json").await;
        assert_eq!(first.ids, full.ids[..3]);
        for (path, pages) in [
            ("/feed.json", 3),
            ("/feed.json?limit=2", 4),
            ("/feed.json?limit=1", 7),
            ("/feed.rss?limit=2", 4),
            ("/feed.atom?limit=3", 3),
            ("/?json=1&limit=2", 4),
            ("/feed.json?limit=7", 1),
        ] {
            let (ids, walked) = walk(app, path).await;
            assert_eq!(ids, full.ids, "{path}");
            assert_eq!(walked, pages, "{path}");
        }
        let alpha: Vec<i64> = page(app, "/groups/alpha/feed.atom?limit=100").await.ids;
        assert_eq!(alpha.len(), 5);
        assert_eq!(walk(app, "/groups/alpha/feed.atom?limit=2").await.0, alpha);
        assert_eq!(walk(app, "/feed.rss?group=beta&limit=1").await.0.len(), 2);

        // Entries that come and go between pages: what kept its place is
        // listed once, none is skipped.
        let page_one = page(app, "/feed.json?limit=2").await;
        let cursor_entry = page_one.ids[1];
        crate::feeds::support::unpublish(&world, cursor_entry).await;
        let newer = publish_in(&world, "alpha", json!({"title": "Newest"}), json!({})).await;
        let next = page_one.next.clone().expect("a next page");
        let (rest, _) = walk(app, &local(&next)).await;
        // The newest ranks below the sticky ones, after the cursor: it is
        // on a later page, where the feed now has it.
        let now_full = page(app, "/feed.json?limit=100").await.ids;
        assert_eq!(now_full[0], page_one.ids[0]);
        assert!(!now_full.contains(&cursor_entry));
        assert_eq!(rest, now_full[1..]);
        assert!(rest.contains(&newer));
        assert_eq!(rest.iter().collect::<HashSet<_>>().len(), rest.len());

        // Any cursor naming a place is the page after it: one cached copy.
        let (sticky, priority, published_at, id) = {
            let cursor = next.split("before=").nth(1).expect("cursor");
            let parts: Vec<i64> = cursor
                .split('&')
                .next()
                .expect("cursor")
                .split('_')
                .map(|part| part.parse().expect("a number"))
                .collect();
            (parts[0], parts[1], parts[2], parts[3])
        };
        let named = fetch(app, &local(&next), &[]).await;
        let nearby = fetch(
            app,
            &format!(
                "/feed.json?limit=2&before={sticky}_{priority}_{published_at}_{}",
                id - 1
            ),
            &[],
        )
        .await;
        assert_eq!(
            named.expect(200).header("etag"),
            nearby.expect(200).header("etag")
        );
        // A cursor before everything is the first page; one after it, none.
        let top = fetch(
            app,
            "/feed.json?before=1_2147483647_9223372036854775807_9223372036854775807",
            &[],
        )
        .await;
        assert_eq!(
            top.expect(200).header("etag"),
            fetch(app, "/feed.json", &[]).await.header("etag")
        );
        let bottom = page(
            app,
            "/feed.json?before=0_-2147483648_-9223372036854775808_0",
        )
        .await;
        assert!(bottom.ids.is_empty() && bottom.next.is_none());
    }
);

db_test!(
    bad_values_are_refused_plainly,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        seed(&world).await;
        let bad = [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("limit=-3", "limit"),
            ("limit=1.5", "limit"),
            ("country=XX", "country"),
            ("country=Germany", "country"),
            ("kind=party", "kind"),
            ("before=yesterday", "before"),
            ("before=2026-01-01T00:00:00Z", "before"),
            ("before=2_0_1_1", "before"),
            ("lang=english!", "english!"),
        ];
        let mut bases: Vec<String> = FORMATS
            .iter()
            .flat_map(|f| [format!("/feed.{f}?"), format!("/groups/alpha/feed.{f}?")])
            .collect();
        bases.push("/?json=1&".into());
        for base in &bases {
            for (query, named) in bad {
                let path = format!("{base}{query}");
                let reply = fetch(app, &path, &[]).await;
                reply.expect(400);
                assert_eq!(
                    reply.header("content-type"),
                    Some("text/plain; charset=utf-8"),
                    "{path}"
                );
                assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
                assert!(reply.text.contains(named), "{path}: {}", reply.text);
            }
            // The extremes are fine.
            for limit in [1, 100] {
                fetch(app, &format!("{base}limit={limit}"), &[])
                    .await
                    .expect(200);
            }
        }
        // An unknown group is not found, named in the answer.
        for path in [
            "/feed.json?group=nope",
            "/feed.ics?group=alpha,nope",
            "/groups/nope/feed.rss?limit=2",
            "/?json=1&group=nope",
        ] {
            let reply = fetch(app, path, &[]).await;
            reply.expect(404);
            assert!(reply.text.contains("nope"), "{path}: {}", reply.text);
        }
        // The QGIS array's own parameters do not mix with a JSON Feed's.
        for path in [
            "/?json=1&group=alpha&after=5",
            "/?json=1&limit=2&lat=50&lon=7",
        ] {
            let reply = fetch(app, path, &[]).await;
            reply.expect(400);
            assert!(reply.text.contains("after, lat and lon"), "{}", reply.text);
        }
    }
);

db_test!(
    qgis_agents_get_the_array_as_before,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        seed(&world).await;
        let filters = "group=beta&kind=event&country=CH&limit=1&before=not-a-cursor";
        for agent in [NEW_QGIS, OLD_QGIS, "QGIS desktop"] {
            for (plain, filtered) in [
                ("/?lang=en".to_string(), format!("/?lang=en&{filters}")),
                ("/?json=1".to_string(), format!("/?json=1&{filters}")),
            ] {
                let plain = fetch_raw(app, "GET", &plain, &[("user-agent", agent)]).await;
                let filtered = fetch_raw(app, "GET", &filtered, &[("user-agent", agent)]).await;
                assert_eq!(plain.status, 200);
                assert_eq!(filtered.status, 200, "{agent}");
                assert_eq!(filtered.header("content-type"), Some("application/json"));
                assert_eq!(filtered.body, plain.body, "{agent}");
                let array: Value = serde_json::from_slice(&filtered.body).expect("JSON");
                assert!(array.as_array().is_some_and(|items| items.len() > 1));
            }
        }
        // Without a QGIS agent, `json=1` with only the array's parameters is
        // the array too.
        for path in ["/?json=1", "/?json=1&lang=de", "/?json=1&group=&limit="] {
            let reply = fetch(app, path, &[("user-agent", "curl/8")]).await;
            reply.expect(200);
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{path}"
            );
            assert!(reply.json().is_array(), "{path}");
        }
        // With a feed parameter it is the JSON Feed of `/feed.json`, byte
        // for byte, varying by agent.
        let site = fetch_raw(app, "GET", "/?json=1&group=alpha&lang=de", &[]).await;
        let feed = fetch_raw(app, "GET", "/feed.json?lang=de&group=alpha", &[]).await;
        assert_eq!(site.status, 200);
        assert_eq!(
            site.header("content-type"),
            Some("application/feed+json; charset=utf-8")
        );
        assert_eq!(site.body, feed.body);
        assert_eq!(site.header("vary"), Some("User-Agent, Accept-Encoding"));
        assert_eq!(site.header("cache-control"), Some(SWR));
        // Browsers without `json=1` still get the page.
        let browser = fetch(
            app,
            "/?lang=en&group=alpha",
            &[("user-agent", "Mozilla/5.0 Firefox/140.0")],
        )
        .await;
        browser.expect(200);
        assert!(
            browser
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html"))
        );
    }
);

db_test!(
    filtered_and_paged_feeds_are_cacheable,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let seeded = seed(&world).await;
        let mut routes: Vec<String> = FORMATS
            .iter()
            .flat_map(|f| {
                [
                    format!("/feed.{f}?group=alpha,beta&kind=event,meetup&country=DE,CH"),
                    format!("/groups/alpha/feed.{f}?lang=de&limit=1"),
                ]
            })
            .collect();
        let paged = page(app, "/feed.atom?limit=1").await.next.expect("next");
        routes.push(local(&paged));
        routes.push("/?json=1&kind=event&limit=1".into());
        // What the embed asks for.
        routes.push("/feed.json?group=alpha&kind=event,meetup&lang=de&limit=5".into());
        for route in &routes {
            let first = fetch_raw(app, "GET", route, &[GZIP]).await;
            assert_eq!(first.status, 200, "{route}");
            let cache_control = first.header("cache-control").unwrap_or_default();
            assert_eq!(cache_control, SWR, "{route}");
            assert_eq!(first.header("access-control-allow-origin"), Some("*"));
            assert_eq!(first.header("content-encoding"), Some("gzip"), "{route}");
            let etag = first.header("etag").expect("etag").to_string();
            let modified = first
                .header("last-modified")
                .expect("last-modified")
                .to_string();
            let again = fetch_raw(app, "GET", route, &[GZIP, ("if-none-match", &etag)]).await;
            assert_eq!(again.status, 304, "{route}");
            assert_eq!(again.header("cache-control"), Some(SWR));
            let since = fetch_raw(app, "GET", route, &[("if-modified-since", &modified)]).await;
            assert_eq!(since.status, 304, "{route}");
            // HEAD takes the documented route, which reads the same parameters.
            let head = fetch_raw(app, "HEAD", route, &[GZIP]).await;
            assert_eq!(head.status, 200, "HEAD {route}");
            assert_eq!(head.header("etag"), Some(etag.as_str()), "HEAD {route}");
            assert!(head.body.is_empty());
        }
        let embed = page(
            app,
            "/feed.json?group=alpha&kind=event,meetup&lang=de&limit=5",
        )
        .await;
        let expected: Vec<i64> = seeded
            .iter()
            .filter(|p| p.group == "alpha" && p.dated() && p.language.is_none_or(|l| l == "de"))
            .map(|p| p.id)
            .collect();
        assert_eq!(sorted(embed.ids), sorted(expected));
    }
);

db_test!(
    later_pages_cannot_crowd_out_the_cache,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let content = "<p>".to_string() + &"News of the group. ".repeat(20) + "</p>";
        for n in 0..12 {
            publish_in(
                &world,
                "alpha",
                json!({"title": format!("Entry {n}"), "content": content}),
                json!({}),
            )
            .await;
        }
        // Every place in the feed, as cursors.
        let cursors: Vec<String> = pages(app, "/feed.json?limit=1")
            .await
            .into_iter()
            .filter_map(|(path, _)| path.split("before=").nth(1).map(str::to_string))
            .collect();
        assert_eq!(cursors.len(), 11);
        // 66 distinct later pages: the first 64 since the last change are
        // kept (and so gzip-compressed once), the others rendered each time.
        let mut kept = 0;
        let mut distinct = HashSet::new();
        for limit in 2..=7 {
            for cursor in &cursors {
                let path = format!("/feed.json?limit={limit}&before={cursor}");
                let reply = fetch_raw(app, "GET", &path, &[GZIP]).await;
                assert_eq!(reply.status, 200);
                assert_eq!(reply.header("cache-control"), Some(SWR));
                distinct.insert(path);
                if reply.header("content-encoding") == Some("gzip") {
                    kept += 1;
                }
            }
        }
        // Those walked by `limit=1` were kept too.
        assert_eq!(distinct.len(), 66);
        assert_eq!(kept, 64 - cursors.len());
        // First pages still have their room.
        for limit in 20..30 {
            let path = format!("/feed.json?kind=announcement&limit={limit}");
            let reply = fetch_raw(app, "GET", &path, &[GZIP]).await;
            assert_eq!(reply.header("content-encoding"), Some("gzip"), "{path}");
        }
    }
);
