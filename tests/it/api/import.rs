//! Importing the user-group directory CSV: idempotent, updates, bad rows by line.

use serde_json::Value;

use crate::common;
use newsfeed::service::groups;

/// The directory as the project ships it, beside the repository.
const DIRECTORY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/user-groups.csv"
);

fn directory_csv() -> String {
    let path = std::env::var("NEWSFEED_TEST_GROUPS_CSV").unwrap_or_else(|_| {
        if std::path::Path::new(DIRECTORY).exists() {
            DIRECTORY.into()
        } else {
            "/work/shared/data/user-groups.csv".into()
        }
    });
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

async fn directory(app: &common::TestApp) -> Vec<Value> {
    app.get("/api/v1/groups", None)
        .await
        .expect(200)
        .json()
        .as_array()
        .expect("array")
        .clone()
}

db_test!(
    the_real_directory_imports_idempotently,
    |app: common::TestApp| async move {
        let csv = directory_csv();
        let rows = csv
            .lines()
            .skip(1)
            .filter(|line| !line.trim().is_empty())
            .count();
        let removed = csv.lines().filter(|line| line.contains(",removed")).count();
        let first = app.import(&csv).await;
        let admin = app.admin().await;
        assert_eq!(
            first.errors,
            Vec::<(usize, String)>::new(),
            "the file imports as-is"
        );
        assert_eq!(first.created, rows);
        assert_eq!((first.updated, first.unchanged), (0, 0));
        // Removed groups are kept but not listed.
        let listed = directory(&app).await;
        assert_eq!(listed.len(), rows - removed);
        let brasil = listed
            .iter()
            .find(|group| group["slug"] == "qgis-brasil")
            .expect("qgis-brasil listed");
        assert_eq!(brasil["country"], "BR");
        assert_eq!(brasil["website"], "https://qgisbrasil.org/");
        // The contact is a person: shown to admins only, not to the public.
        assert!(brasil.get("contact").is_none(), "{brasil}");
        let seen_by_admin = app
            .get("/api/v1/groups/qgis-brasil", Some(&admin))
            .await
            .expect(200)
            .json();
        assert_eq!(seen_by_admin["contact"], "Arthur Nanni");
        app.get("/api/v1/groups/niwa-nz", None)
            .await
            .expect_problem(404, "not-found");

        let again = app.import(&csv).await;
        assert_eq!(
            (
                again.created,
                again.updated,
                again.unchanged,
                again.errors.len()
            ),
            (0, 0, rows, 0)
        );
        assert_eq!(directory(&app).await.len(), rows - removed);
    }
);

db_test!(
    a_changed_row_updates_its_group,
    |app: common::TestApp| async move {
        let csv = directory_csv();
        let rows = csv
            .lines()
            .skip(1)
            .filter(|line| !line.trim().is_empty())
            .count();
        app.import(&csv).await;
        let changed = csv
            .replace(
                "QGIS Anwendergruppe Deutschland,DE,https://qgis.de/",
                "QGIS Anwendergruppe Deutschland e.V.,DE,https://www.qgis.de/",
            )
            .replace(
                "qgis-dk,QGIS Brugergruppe Danmark,DK,https://qgis.dk/,Jacob Arpe,2016,active",
                "qgis-dk,QGIS Brugergruppe Danmark,DK,https://qgis.dk/,Jacob Arpe,2016,suspended",
            );
        assert_ne!(changed, csv, "the fixture rows changed");
        let report = app.import(&changed).await;
        assert_eq!(
            (
                report.created,
                report.updated,
                report.unchanged,
                report.errors.len()
            ),
            (0, 2, rows - 2, 0)
        );
        let de = app
            .get("/api/v1/groups/qgis-de", None)
            .await
            .expect(200)
            .json();
        assert_eq!(de["name"], "QGIS Anwendergruppe Deutschland e.V.");
        assert_eq!(de["website"], "https://www.qgis.de/");
        let dk = app
            .get("/api/v1/groups/qgis-dk", None)
            .await
            .expect(200)
            .json();
        assert_eq!(dk["status"], "suspended");
        // A row added later is created, the rest untouched.
        let added =
            format!("{changed}qgis-new,QGIS New,FR,https://new.example.org/,Someone,2026,active\n");
        let report = app.import(&added).await;
        assert_eq!(
            (report.created, report.updated, report.unchanged),
            (1, 0, rows)
        );
    }
);

db_test!(
    bad_rows_are_reported_with_their_line_numbers,
    |app: common::TestApp| async move {
        let csv = "slug,name,country,website,contact,registered,status\n\
               good-one,Good One,DE,https://good.example.org/,A,2020,active\n\
               good-two,Good Two,,,B,2020,\n\
               bad-country,Bad Country,XX,,C,2020,active\n\
               Bad Slug,Bad Slug,DE,,D,2020,active\n\
               bad-status,Bad Status,DE,,E,2020,sleeping\n\
               bad-website,Bad Website,DE,javascript:alert(1),F,2020,active\n\
               ,No Slug,DE,,G,2020,active\n\
               no-name,,DE,,H,2020,active\n\
               short-row,Short\n";
        let report = app.import(csv).await;
        assert_eq!(report.created, 2, "{report:?}");
        let lines: Vec<usize> = report.errors.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [4, 5, 6, 7, 8, 9, 10], "{report:?}");
        let message = |line: usize| {
            report
                .errors
                .iter()
                .find(|(l, _)| *l == line)
                .map(|(_, message)| message.clone())
                .unwrap_or_default()
        };
        assert!(message(4).contains("country"), "{}", message(4));
        assert!(message(5).contains("slug"), "{}", message(5));
        assert!(message(6).contains("status"), "{}", message(6));
        assert!(message(7).contains("website"), "{}", message(7));
        // The good rows are in the directory, the bad ones are not.
        let slugs: Vec<Value> = directory(&app)
            .await
            .iter()
            .map(|g| g["slug"].clone())
            .collect();
        assert_eq!(slugs, ["good-one", "good-two"]);
        // Re-importing reports the same lines and creates nothing.
        let again = app.import(csv).await;
        assert_eq!((again.created, again.unchanged), (0, 2));
        assert_eq!(
            again
                .errors
                .iter()
                .map(|(line, _)| *line)
                .collect::<Vec<_>>(),
            lines
        );
    }
);

db_test!(
    a_file_without_slug_or_name_columns_is_refused,
    |app: common::TestApp| async move {
        let result = groups::import_csv(&app.state.services, b"name,country\nX,DE\n").await;
        assert!(
            matches!(&result, Err(groups::ImportError::Format(message)) if message.contains("slug")),
            "{result:?}"
        );
        assert!(directory(&app).await.is_empty());
    }
);
