//! The migration that gives every account the skeleton of its address (what
//! it looks like): accounts made before it whose addresses look the same are
//! named in a warning and kept, and a new lookalike of any of them is refused.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database};

use super::{databases, run, text};

/// The migrations before the skeletons (up to saved areas).
const BEFORE_SKELETONS: u32 = 6;

fn create_user(email: &str, url: &str) -> std::process::Output {
    run(
        &[
            "create-user",
            "--email",
            email,
            "--password-stdin",
            "--database-url",
            url,
        ],
        "a long password\n",
    )
}

#[tokio::test]
async fn existing_lookalikes_are_reported_and_kept_and_new_ones_refused() {
    let (urls, _guards) = databases().await;
    for url in urls {
        let db = Database::connect(&url).await.unwrap();
        Migrator::up(&db, Some(BEFORE_SKELETONS)).await.unwrap();
        // What the old rules let in: ids 1 to 4 on a new database.
        for email in [
            "anna@example.org",
            "\u{430}nna@example.org",   // Cyrillic а
            "an\u{200B}na@example.org", // zero-width space
            "p\u{430}ypal@example.org", // Cyrillic а, alone of its look
        ] {
            db.execute_unprepared(&format!(
                "INSERT INTO users (email, display_name, password_hash, role, created_at, updated_at) \
                 VALUES ('{email}', 'Old', '', 'member', 0, 0)"
            ))
            .await
            .unwrap();
        }
        db.close().await.ok();

        // The first command migrates: a warning names the three lookalikes, and it goes on.
        let first = create_user("bob@example.org", &url);
        assert!(first.status.success(), "{}", text(&first.stderr));
        assert!(
            text(&first.stderr).contains("users=[1, 2, 3]"),
            "{}",
            text(&first.stderr)
        );
        assert!(text(&first.stdout).contains("created user 5"));

        // The old rows' skeletons are filled: a plain address that looks like one is taken.
        for lookalike in ["paypal@example.org", "anna@example.org"] {
            let refused = create_user(lookalike, &url);
            assert!(!refused.status.success(), "{lookalike}");
            assert!(
                text(&refused.stderr).contains("looks the same"),
                "{lookalike}: {}",
                text(&refused.stderr)
            );
            assert!(!text(&refused.stderr).contains("users=["), "warned once");
        }

        let db = Database::connect(&url).await.unwrap();
        let count = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM users",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(count, 5, "every old account stays");
        db.close().await.ok();
    }
}

#[tokio::test]
async fn an_export_older_than_skeletons_imports_with_them() {
    let (urls, _guards) = databases().await;
    let old_export = concat!(
        r#"{"format":"newsfeed-export","version":1}"#,
        "\n",
        r#"{"table":"users","row":{"id":1,"email":"p\u0430ypal@example.org","display_name":"Old","#,
        r#""password_hash":"","role":"member","disabled":false,"credentials_version":0,"#,
        r#""created_at":0,"updated_at":0}}"#,
        "\n",
    );
    for url in urls {
        drop(newsfeed::db::connect(&url, 2).await.expect("migrate"));
        let imported = run(&["import", "-", "--database-url", &url], old_export);
        assert!(imported.status.success(), "{}", text(&imported.stderr));
        let refused = create_user("paypal@example.org", &url);
        assert!(
            text(&refused.stderr).contains("looks the same"),
            "{}",
            text(&refused.stderr)
        );
    }
}
