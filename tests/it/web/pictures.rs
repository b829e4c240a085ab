//! The entry form's picture: uploaded with the form (multipart, no
//! JavaScript), kept from Preview to Save, replaced, removed, refused with
//! a message on the form; image URLs only from moderators; the alt text on
//! pages and in the feeds.

use image::ImageFormat;

use crate::api::support::entry;
use crate::common::{TestApp, World};
use crate::media::images;
use crate::web::support::{Browser, Page};

const EDITOR: &str = "editor@example.org";
const OWNER: &str = "owner@example.org";
const ALT: &str = "Twenty people around a printed map";
const NEW: &str = "/my/entries/new?kind=announcement";

fn photo(width: u32, height: u32) -> Vec<u8> {
    images::encode(&images::halves(width, height), ImageFormat::Jpeg)
}

fn announcement<'a>(title: &'a str, intent: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("kind", "announcement"),
        ("group", "alpha"),
        ("title", title),
        ("content", "Maps for everyone."),
        ("image_alt", ALT),
        ("language", ""),
        ("publish_from", ""),
        ("publish_to", ""),
        ("intent", intent),
    ]
}

/// Opens the new announcement form and posts it with `file`.
async fn post_new(
    browser: &Browser<'_>,
    fields: &[(&str, &str)],
    file: Option<(&str, Vec<u8>)>,
) -> Page {
    browser.get(NEW).await.expect(200);
    browser
        .post_multipart(NEW, fields, "image_file", file)
        .await
}

fn id_of(page: &Page) -> i64 {
    page.expect(303)
        .location()
        .trim_start_matches("/my/entries/")
        .parse()
        .unwrap()
}

/// The `image` the entry now has, checked to be one of our stored pictures.
async fn stored_image(world: &World, id: i64) -> String {
    let image = entry(&world.app, &world.editor, id).await["image"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        image.starts_with("/media/") && image.ends_with(".jpg"),
        "{image}"
    );
    image
}

/// A GET through the router: status, content type, bytes.
async fn fetch(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let response = app.client.get(path).send().await.0;
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.into_body().into_vec().await.unwrap())
}

db_test!(
    a_picture_uploaded_with_save_is_served_and_published,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let form = browser.get(NEW).await;
        form.expect(200)
            .expect_text("enctype=\"multipart/form-data\"")
            .expect_text("<label for=\"image_file\">Picture</label>")
            .expect_text("name=\"image_file\" type=\"file\"")
            .expect_text("<label for=\"image_alt\">What the image shows</label>");
        let fields = announcement("Map party", "save");
        let saved = post_new(&browser, &fields, Some(("party.jpg", photo(1000, 700)))).await;
        let id = id_of(&saved);
        let image = stored_image(&world, id).await;
        // Stored at the feeds' size, as a JPEG, at its media URL.
        let (status, kind, bytes) = fetch(&world.app, &image).await;
        assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
        let stored = image::load_from_memory(&bytes).unwrap();
        assert_eq!((stored.width(), stored.height()), (500, 354));
        // Approved: on the start page, its own page and in the feeds, with its alt text.
        world
            .app
            .submit_and_approve(&world.editor, &world.moderator, id, serde_json::json!({}))
            .await;
        let home = browser.get("/").await;
        home.expect(200)
            .expect_text(&format!("{image}\" alt=\"{ALT}\""));
        browser
            .get(&format!("/entries/{id}"))
            .await
            .expect(200)
            .expect_text(&format!("alt=\"{ALT}\""));
        let absolute = format!("{}{image}", world.app.state.config.public_base_url());
        let feed = world.app.get("/feed.json", None).await.expect(200).json();
        let item = &feed["items"][0];
        assert_eq!(item["image"], absolute.as_str(), "{item}");
        assert_eq!(item["_newsfeed"]["image_alt"], ALT, "{item}");
        let rss = world.app.get("/feed.rss", None).await.text;
        assert!(
            rss.contains(&format!(
                "<media:description type=\"plain\">{ALT}</media:description>"
            )),
            "{rss}"
        );
        let atom = world.app.get("/feed.atom", None).await.text;
        assert!(atom.contains(&format!("title=\"{ALT}\"")), "{atom}");
        // QGIS's JSON has no place for it and keeps its fields (tests/it/feeds/qgis.rs).
        let qgis = world.app.get("/?json=1", None).await.expect(200).json();
        assert!(qgis[0].get("image_alt").is_none(), "{qgis}");
        assert_eq!(qgis[0]["image"], absolute.as_str());
    }
);

db_test!(
    preview_shows_the_cropped_picture_and_save_keeps_it,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let preview = post_new(
            &browser,
            &announcement("Previewed", "preview"),
            Some(("wide.jpg", photo(1200, 400))),
        )
        .await;
        preview.expect(200).expect_text("This is a preview");
        let path = preview
            .input_value("image")
            .expect("the picture kept in the form");
        assert!(path.starts_with("/media/"), "{path}");
        // The preview shows the stored, cropped picture with its alt text.
        preview.expect_text(&format!(
            "src=\"{path}\" alt=\"{ALT}\" width=\"250\" height=\"177\""
        ));
        let (status, _, bytes) = fetch(&world.app, &path).await;
        assert_eq!(status, 200);
        let cropped = image::load_from_memory(&bytes).unwrap();
        assert_eq!((cropped.width(), cropped.height()), (500, 354));
        // Save without sending the file again.
        let mut fields = announcement("Previewed", "save");
        fields.push(("image", &path));
        let id = id_of(
            &browser
                .post_multipart(NEW, &fields, "image_file", None)
                .await,
        );
        assert_eq!(stored_image(&world, id).await, path);
        // Nobody else can attach the picture by its path.
        let owner = Browser::signed_in(&world.app, OWNER).await;
        let refused = post_new(&owner, &fields, None).await;
        refused.expect(422);
        let message = refused
            .field_error("image_file")
            .expect("an error on Picture");
        assert!(message.contains("choose the file again"), "{message}");
        refused.expect_text("Picture is not one you uploaded");
    }
);

db_test!(
    a_picture_is_replaced_and_removed,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let fields = announcement("Changing", "save");
        let id = id_of(&post_new(&browser, &fields, Some(("one.jpg", photo(800, 600)))).await);
        let first = stored_image(&world, id).await;
        let edit = format!("/my/entries/{id}/edit");
        let form = browser.get(&edit).await;
        form.expect(200)
            .expect_text(&format!("src=\"{first}\" alt=\"{ALT}\""))
            .expect_text("<label for=\"image_remove\">Remove picture</label>");
        let version = form.input_value("version").unwrap();
        // Replace: another file.
        let mut fields = announcement("Changing", "save");
        fields.extend([("version", version.as_str()), ("image", first.as_str())]);
        let other = images::encode(&images::halves(900, 900), ImageFormat::Png);
        browser
            .post_multipart(&edit, &fields, "image_file", Some(("two.png", other)))
            .await
            .expect(303);
        let second = stored_image(&world, id).await;
        assert_ne!(second, first);
        // Remove.
        let form = browser.get(&edit).await;
        let version = form.input_value("version").unwrap();
        let mut fields = announcement("Changing", "save");
        fields.extend([
            ("version", version.as_str()),
            ("image", second.as_str()),
            ("image_remove", "on"),
        ]);
        browser
            .post_multipart(&edit, &fields, "image_file", None)
            .await
            .expect(303);
        assert_eq!(entry(&world.app, &world.editor, id).await["image"], "");
        assert!(!browser.get(&edit).await.has("Remove picture"));
    }
);

db_test!(
    refused_pictures_are_explained_on_the_form,
    World::builder().config(|c| c.image_max_bytes = 200_000),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let fields = announcement("Refused", "save");
        // Over --image-max-bytes: 413, the form again with the sizes.
        let noise: Vec<u8> = (0..250_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let page = post_new(&browser, &fields, Some(("big.jpg", noise))).await;
        page.expect(413)
            .expect_text("Picture: the image has 250000 bytes");
        let message = page.field_error("image_file").unwrap();
        assert!(message.contains("at most 200000"), "{message}");
        page.expect_text("value=\"Refused\"");
        // Not an image, cut short.
        let png = images::encode(&images::halves(800, 600), ImageFormat::Png);
        let cases = [
            (
                "page.jpg",
                b"<!DOCTYPE html><html></html>".to_vec(),
                "is not a JPEG, PNG or WebP image",
            ),
            (
                "cut.png",
                png[..png.len() / 3].to_vec(),
                "cannot be read as PNG",
            ),
        ];
        for (name, bytes, reason) in cases {
            let page = post_new(&browser, &fields, Some((name, bytes))).await;
            page.expect(422).expect_text(&format!("Picture {reason}"));
            let message = page.field_error("image_file").unwrap();
            assert!(message.contains(reason), "{name}: {message}");
        }
        // Nothing was saved.
        let mine = world
            .app
            .get("/api/v1/entries", Some(&world.editor))
            .await
            .json();
        assert_eq!(mine["items"].as_array().map(Vec::len), Some(0), "{mine}");
    }
);

db_test!(
    only_moderators_link_an_image,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let form = browser.get(NEW).await;
        assert!(
            !form.has("Image URL"),
            "editors are not offered the URL field"
        );
        let mut fields = announcement("Linked", "save");
        fields.push(("image", "https://example.org/map.png"));
        let page = post_new(&browser, &fields, None).await;
        page.expect(422);
        let message = page.field_error("image_file").unwrap();
        assert!(
            message.contains("only moderators may link an image"),
            "{message}"
        );
        // An admin sees the field and may link.
        let admin = Browser::signed_in(&world.app, "admin@example.org").await;
        admin
            .get(NEW)
            .await
            .expect(200)
            .expect_text("<label for=\"image\">Image URL</label>");
        let id = id_of(&post_new(&admin, &fields, None).await);
        let linked = entry(&world.app, &world.admin, id).await;
        assert_eq!(linked["image"], "https://example.org/map.png");
    }
);

db_test!(
    a_picture_without_alt_text_is_pointed_out,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let mut fields = announcement("No words", "preview");
        fields.retain(|(name, _)| *name != "image_alt");
        let page = post_new(&browser, &fields, Some(("x.jpg", photo(600, 400)))).await;
        page.expect(200).expect_text("id=\"image_alt-missing\"");
    }
);

db_test!(
    the_forms_text_stays_within_the_body_limit,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        // The file may be large; the text fields together may not.
        let long = "x".repeat(world.app.state.config.max_body_bytes + 1);
        let mut fields = announcement("Long", "save");
        fields.push(("call_to_action", &long));
        post_new(&browser, &fields, Some(("x.jpg", photo(600, 400))))
            .await
            .expect(413);
        let mine = world.app.get("/api/v1/entries", Some(&world.editor)).await;
        assert_eq!(mine.json()["total"], 0);
    }
);
