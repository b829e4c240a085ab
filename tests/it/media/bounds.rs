//! The pipeline's bounds: memory, files cut short, identical uploads at once.

use futures_util::future::join_all;
use image::ImageFormat;

use crate::common::{TestApp, World};
use crate::media::images;
use crate::media::pictures::{draft, upload};

db_test!(
    a_picture_that_would_need_more_memory_than_the_budget_is_refused_naming_it,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = draft(&world).await["id"].as_i64().unwrap();
        // The maker's PNGs are whole pictures: a small one is taken.
        let small = images::blank_png(600, 400);
        upload(&world.app, &world.editor, id, 1, small, "blank.png")
            .await
            .expect(200);
        // 11000x5500 RGBA: within 12000 px a side and 1.5 MB as a file, but
        // 231 MiB decoded, before any copy.
        let huge = images::blank_png(11_000, 5_500);
        assert!(huge.len() < 2_000_000, "{}", huge.len());
        let problem = upload(&world.app, &world.editor, id, 2, huge, "huge.png")
            .await
            .expect_problem(422, "validation");
        assert_eq!(problem["errors"][0]["field"], "file", "{problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("is 11000x5500 pixels")
                && message.contains("a picture may use at most 128 MiB"),
            "{message}"
        );
    }
);

db_test!(
    identical_uploads_at_the_same_moment_all_succeed,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let mut ids = Vec::new();
        for _ in 0..16 {
            ids.push(draft(&world).await["id"].as_i64().unwrap());
        }
        // Small, so that the pictures processed side by side reach the
        // store together.
        let photo = images::encode(&images::halves(260, 180), ImageFormat::Jpeg);
        let replies = join_all(
            ids.iter()
                .map(|id| upload(&world.app, &world.editor, *id, 1, photo.clone(), "same.jpg")),
        )
        .await;
        let paths: Vec<String> = replies
            .iter()
            .map(|reply| {
                reply.expect(200).json()["image"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert!(paths.iter().all(|path| *path == paths[0]), "{paths:?}");
        let stored = world.app.client.get(&paths[0]).send().await;
        stored.assert_status_is_ok();
    }
);

db_test!(
    pictures_cut_short_are_refused_in_every_format,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = draft(&world).await["id"].as_i64().unwrap();
        let picture = images::halves(800, 600);
        for (format, name) in [
            (ImageFormat::Jpeg, "JPEG"),
            (ImageFormat::Png, "PNG"),
            (ImageFormat::WebP, "WebP"),
        ] {
            let bytes = images::encode(&picture, format);
            let half = bytes[..bytes.len() / 2].to_vec();
            let problem = upload(&world.app, &world.editor, id, 1, half, "half")
                .await
                .expect_problem(422, "validation");
            assert_eq!(problem["errors"][0]["field"], "file", "{problem}");
            let message = problem["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("cannot be read as {name}: ")),
                "{name}: {message}"
            );
            // Only the end missing is enough.
            let most = bytes[..bytes.len() - 2].to_vec();
            upload(&world.app, &world.editor, id, 1, most, "most")
                .await
                .expect_problem(422, "validation");
        }
        // Nothing changed; a whole JPEG with bytes after its end (as some
        // phones write) is taken.
        let mut trailed = images::encode(&picture, ImageFormat::Jpeg);
        trailed.extend(b"SEFT trailer");
        upload(&world.app, &world.editor, id, 1, trailed, "trailed.jpg")
            .await
            .expect(200);
    }
);
