//! Upload, refusals, serving, edits of live entries, and the sweep.

use image::{ImageDecoder, ImageFormat};
use newsfeed::clock::Clock;
use newsfeed::service::media::sweep;
use poem::test::{TestForm, TestFormField};
use serde_json::{Value, json};

use crate::common::{self, Reply, TestApp, World};
use crate::media::images;

const START: i64 = 1_900_000_000;

/// `POST /api/v1/entries/{id}/image` with `bytes` as `name`, based on `version`.
pub async fn upload(
    app: &TestApp,
    token: &str,
    id: i64,
    version: i64,
    bytes: Vec<u8>,
    name: &str,
) -> Reply {
    let form = TestForm::new()
        .field(
            TestFormField::bytes(bytes)
                .name("file")
                .filename(name)
                .content_type("image/jpeg"),
        )
        .text("version", version.to_string());
    let response = app
        .client
        .post(format!("/api/v1/entries/{id}/image"))
        .header("authorization", format!("Bearer {token}"))
        .multipart(form)
        .send()
        .await;
    Reply::from(response.0).await
}

pub async fn draft(world: &World) -> Value {
    world.app.draft(&world.editor, "alpha", "Pictured").await
}

/// The stored picture an entry points at, fetched as a client would.
async fn fetch(app: &TestApp, path: &str) -> (Reply, Vec<u8>) {
    let response = app.client.get(path).send().await;
    let response = response.0;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().into_vec().await.unwrap();
    (
        Reply {
            status,
            headers,
            text: String::new(),
        },
        bytes,
    )
}

fn pixel(jpeg: &[u8], x: u32, y: u32) -> [u8; 3] {
    image::load_from_memory(jpeg)
        .unwrap()
        .to_rgb8()
        .get_pixel(x, y)
        .0
}

fn is_red([r, g, b]: [u8; 3]) -> bool {
    r > 150 && g < 90 && b < 90
}

fn is_blue([r, g, b]: [u8; 3]) -> bool {
    b > 150 && r < 90 && g < 90
}

db_test!(
    a_phone_photo_is_turned_upright_cropped_and_stripped,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let entry = draft(&world).await;
        let id = entry["id"].as_i64().unwrap();
        // 1200x800, red above blue, to be viewed turned 90° clockwise.
        let jpeg = images::encode(&images::halves(1200, 800), ImageFormat::Jpeg);
        let exif = images::exif_rotated_with_gps();
        let photo = images::with_exif(&jpeg, &exif);
        let updated = upload(&world.app, &world.editor, id, 1, photo, "IMG_0001.jpg")
            .await
            .expect(200)
            .json();
        let path = updated["image"].as_str().unwrap().to_string();
        assert!(
            path.starts_with("/media/") && path.ends_with(".jpg"),
            "{path}"
        );
        assert_eq!(updated["version"], 2);
        let (reply, stored) = fetch(&world.app, &path).await;
        reply.expect(200);
        assert_eq!(reply.header("content-type"), Some("image/jpeg"));
        assert_eq!(
            reply.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        let hash = &path["/media/".len()..path.len() - 4];
        assert_eq!(reply.header("etag"), Some(format!("\"{hash}\"").as_str()));
        let decoded = image::load_from_memory_with_format(&stored, ImageFormat::Jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (500, 354));
        // Upright: after the turn red is on the right and blue on the left.
        assert!(is_blue(pixel(&stored, 100, 50)) && is_blue(pixel(&stored, 100, 300)));
        assert!(is_red(pixel(&stored, 400, 50)) && is_red(pixel(&stored, 400, 300)));
        // Nothing but pixels: no EXIF, no position.
        let mut decoder =
            image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&stored)).unwrap();
        assert_eq!(decoder.exif_metadata().unwrap(), None);
        assert!(!stored.windows(4).any(|w| w == b"Exif"));
        assert!(!stored.windows(exif.len()).any(|w| w == exif.as_slice()));
        // The ETag answers a conditional GET.
        let again = world
            .app
            .client
            .get(&path)
            .header("if-none-match", format!("\"{hash}\""))
            .send()
            .await;
        again.assert_status(poem::http::StatusCode::NOT_MODIFIED);
        world
            .app
            .get(&format!("/media/{}.jpg", "0".repeat(64)), None)
            .await
            .expect_problem(404, "not-found");
    }
);

db_test!(
    png_and_webp_become_the_same_jpeg_size,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = draft(&world).await["id"].as_i64().unwrap();
        let mut version = 1;
        for (format, name) in [
            (ImageFormat::Png, "wide.png"),
            (ImageFormat::WebP, "tall.webp"),
        ] {
            let (width, height) = if format == ImageFormat::Png {
                (2000, 500)
            } else {
                (400, 900)
            };
            let bytes = images::encode(&images::halves(width, height), format);
            let entry = upload(&world.app, &world.editor, id, version, bytes, name)
                .await
                .expect(200)
                .json();
            version = entry["version"].as_i64().unwrap();
            let (reply, stored) = fetch(&world.app, entry["image"].as_str().unwrap()).await;
            reply.expect(200);
            let decoded = image::load_from_memory_with_format(&stored, ImageFormat::Jpeg).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (500, 354), "{name}");
        }
        // A wide picture keeps its centre: red above blue still.
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        let (_, stored) = fetch(&world.app, entry["image"].as_str().unwrap()).await;
        assert!(is_red(pixel(&stored, 250, 20)) && is_blue(pixel(&stored, 250, 330)));
    }
);

db_test!(
    refusals_say_why,
    World::builder().config(|c| c.image_max_bytes = 200_000),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = draft(&world).await["id"].as_i64().unwrap();
        let png = images::encode(&images::halves(800, 600), ImageFormat::Png);
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#.to_vec();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "truncated.png",
                png[..png.len() / 3].to_vec(),
                "cannot be read as PNG",
            ),
            (
                "bomb.png",
                images::png_bomb(),
                "is 30000x30000 pixels; at most 12000x12000",
            ),
            (
                "page.jpg",
                b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
                "is not a JPEG, PNG or WebP image (it is an HTML page)",
            ),
            ("logo.svg", svg, "(it is an SVG drawing: export it as PNG)"),
            (
                "icon.png",
                images::encode(&images::halves(64, 64), ImageFormat::Png),
                "is 64x64 pixels; at least 250x177",
            ),
            ("empty.jpg", Vec::new(), "(the file is empty)"),
        ];
        for (name, bytes, reason) in cases {
            let problem = upload(&world.app, &world.editor, id, 1, bytes, name)
                .await
                .expect_problem(422, "validation");
            assert_eq!(problem["errors"][0]["field"], "file", "{name}: {problem}");
            let message = problem["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains(reason), "{name}: {message}");
        }
        // Over --image-max-bytes: 413 with the sizes.
        let noise: Vec<u8> = (0..250_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let problem = upload(&world.app, &world.editor, id, 1, noise, "big.jpg")
            .await
            .expect_problem(413, "payload-too-large");
        assert!(
            problem["detail"].as_str().unwrap().contains("200000"),
            "{problem}"
        );
        // Nothing changed: the entry is still at version 1 without a picture.
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(
            (entry["version"].clone(), entry["image"].clone()),
            (json!(1), json!(""))
        );
        // Only the group uploads; a stale version is a conflict.
        let photo = images::encode(&images::halves(600, 400), ImageFormat::Jpeg);
        upload(
            &world.app,
            &world.other_editor,
            id,
            1,
            photo.clone(),
            "x.jpg",
        )
        .await
        .expect_problem(404, "not-found");
        upload(&world.app, &world.moderator, id, 1, photo.clone(), "x.jpg")
            .await
            .expect_problem(404, "not-found");
        upload(&world.app, &world.editor, id, 7, photo, "x.jpg")
            .await
            .expect_problem(409, "stale-version");
    }
);

db_test!(
    only_moderators_and_admins_link_external_images,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let link = "https://qgis.org/logo.png";
        let problem = world
            .app
            .post(
                "/api/v1/entries",
                Some(&world.editor),
                json!({"group": "alpha", "kind": "announcement", "title": "T",
                       "content": "<p>x</p>", "image": link}),
            )
            .await
            .expect_problem(422, "validation");
        assert_eq!(problem["errors"][0]["field"], "image");
        let id = draft(&world).await["id"].as_i64().unwrap();
        world
            .app
            .patch(
                &format!("/api/v1/entries/{id}"),
                Some(&world.editor),
                json!({"version": 1, "image": link}),
            )
            .await
            .expect_problem(422, "validation");
        // A made-up picture of ours is refused too.
        let fake = format!("/media/{}.jpg", "a".repeat(64));
        world
            .app
            .patch(
                &format!("/api/v1/entries/{id}"),
                Some(&world.editor),
                json!({"version": 1, "image": fake}),
            )
            .await
            .expect_problem(422, "validation");
        let entry = world
            .app
            .patch(
                &format!("/api/v1/entries/{id}"),
                Some(&world.admin),
                json!({"version": 1, "image": link}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(entry["image"], link);
        // The editor may keep it or take it out.
        world
            .app
            .patch(
                &format!("/api/v1/entries/{id}"),
                Some(&world.editor),
                json!({"version": 2, "title": "Kept", "image": link}),
            )
            .await
            .expect(200);
        let removed = world
            .app
            .delete(
                &format!("/api/v1/entries/{id}/image?version=3"),
                Some(&world.editor),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(removed["image"], "");
    }
);

fn feed_image(feed: &Value, id: i64) -> String {
    feed.as_array()
        .unwrap()
        .iter()
        .find(|item| item["pk"] == id)
        .map(|item| item["image"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

db_test!(
    a_live_entry_keeps_its_picture_until_the_new_one_is_approved_and_the_sweep_spares_what_is_used,
    // Logins outlast the days the clock moves.
    World::builder()
        .clock(Clock::manual(START))
        .config(|c| c.token_ttl = 7 * 24 * 3600),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let id = draft(&world).await["id"].as_i64().unwrap();
        let first = images::encode(&images::halves(900, 600), ImageFormat::Png);
        let entry = upload(app, &world.editor, id, 1, first, "first.png")
            .await
            .expect(200)
            .json();
        let old = entry["image"].as_str().unwrap().to_string();
        app.submit_and_approve(&world.editor, &world.moderator, id, json!({}))
            .await;
        let public = common::Reply::from(app.client.get("/?json=1").send().await.0)
            .await
            .json();
        let absolute_old = format!("{}{old}", newsfeed::Config::default().public_base_url());
        assert_eq!(feed_image(&public, id), absolute_old);

        // An edit with a new picture goes to review; the feed keeps the old one.
        let version = app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json()["version"]
            .as_i64()
            .unwrap();
        let second = images::encode(&images::halves(700, 700), ImageFormat::Jpeg);
        let edited = upload(app, &world.editor, id, version, second, "second.jpg")
            .await
            .expect(200)
            .json();
        assert_eq!(edited["status"], "pending");
        let new = edited["image"].as_str().unwrap().to_string();
        assert_ne!(new, old);
        let public = common::Reply::from(app.client.get("/?json=1").send().await.0)
            .await
            .json();
        assert_eq!(feed_image(&public, id), absolute_old);

        // A picture nobody uses any more, uploaded long ago.
        let other = draft(&world).await["id"].as_i64().unwrap();
        let third = images::encode(&images::halves(640, 480), ImageFormat::Png);
        let unused = upload(app, &world.editor, other, 1, third, "third.png")
            .await
            .expect(200)
            .json();
        let unused = unused["image"].as_str().unwrap().to_string();
        app.delete(
            &format!("/api/v1/entries/{other}/image?version=2"),
            Some(&world.editor),
        )
        .await
        .expect(200);

        // Within the grace period nothing goes; past it, only the unused one.
        let report = sweep(&app.state.services).await.unwrap();
        assert_eq!(report.removed, 0);
        app.clock.advance(2 * 24 * 3600);
        let report = sweep(&app.state.services).await.unwrap();
        assert_eq!((report.removed, report.kept), (1, 2));
        fetch(app, &unused).await.0.expect(404);
        fetch(app, &old).await.0.expect(200);
        fetch(app, &new).await.0.expect(200);

        // Approved: the feed shows the new picture; the old one is no longer used.
        let current = app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        let version = current["version"]
            .as_i64()
            .unwrap_or_else(|| panic!("{current}"));
        app.post(
            &format!("/api/v1/moderation/entries/{id}/approve"),
            Some(&world.moderator),
            json!({"version": version}),
        )
        .await
        .expect(200);
        let public = common::Reply::from(app.client.get("/?json=1").send().await.0)
            .await
            .json();
        assert_eq!(
            feed_image(&public, id),
            format!("{}{new}", newsfeed::Config::default().public_base_url())
        );
        let report = sweep(&app.state.services).await.unwrap();
        assert_eq!(report.removed, 1);
        fetch(app, &old).await.0.expect(404);
        fetch(app, &new).await.0.expect(200);
    }
);
