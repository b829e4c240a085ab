//! One address, one account: the same address typed with lookalike letters,
//! invisible characters, full-width letters, other capitals or a decomposed
//! accent is refused, never a second account; signing in takes any of its
//! spellings.

use serde_json::{Value, json};

use crate::common::{self, PASSWORD, TestApp};

async fn create(app: &TestApp, admin: &str, email: &str) -> common::Reply {
    app.post(
        "/api/v1/users",
        Some(admin),
        json!({"email": email, "password": PASSWORD, "display_name": "Anna", "role": "member"}),
    )
    .await
}

async fn emails(app: &TestApp, admin: &str) -> Vec<String> {
    let people: Value = app
        .get("/api/v1/users", Some(admin))
        .await
        .expect(200)
        .json();
    people
        .as_array()
        .expect("array")
        .iter()
        .map(|person| person["email"].as_str().expect("email").to_string())
        .collect()
}

/// Refused as taken (409) or as no acceptable address (422 on `email`).
#[track_caller]
fn refused(reply: &common::Reply, email: &str) {
    match reply.status.as_u16() {
        409 => {
            let problem = reply.expect_problem(409, "duplicate");
            assert!(
                problem["detail"]
                    .as_str()
                    .is_some_and(|detail| detail.contains("looks the same")),
                "{email:?}: {problem}"
            );
        }
        422 => {
            reply.expect_field_error("email");
        }
        _ => panic!("{email:?} was not refused: {} {}", reply.status, reply.text),
    }
}

db_test!(
    lookalike_addresses_are_no_second_account,
    |app: TestApp| async move {
        let admin = app.admin().await;
        create(&app, &admin, "anna@example.org").await.expect(201);
        let before = emails(&app, &admin).await;
        for lookalike in [
            "\u{430}nna@example.org",   // Cyrillic а
            "an\u{200B}na@example.org", // zero-width space
            "an\u{00AD}na@example.org", // soft hyphen
            "an\u{200D}na@example.org", // zero-width joiner
            "\u{FEFF}anna@example.org", // byte order mark
            "ａｎｎａ@example.org",     // full-width
            "anna@EXAMPLE.org",
            " Anna@Example.ORG ",
            "anna@ex\u{430}mple.org", // Cyrillic а in the domain
        ] {
            refused(&create(&app, &admin, lookalike).await, lookalike);
        }
        // An address all in Cyrillic letters passes every rule on its own; it
        // looks exactly like a Latin one, so it is taken once that one is.
        create(&app, &admin, "ace@example.org").await.expect(201);
        let cyrillic_ace = "\u{430}\u{441}\u{435}@example.org";
        refused(&create(&app, &admin, cyrillic_ace).await, cyrillic_ace);
        // An accent typed as a letter plus a combining mark is the composed letter.
        let created = create(&app, &admin, "jose\u{301}@example.org")
            .await
            .expect(201)
            .json();
        assert_eq!(created["email"], "jos\u{e9}@example.org");
        refused(
            &create(&app, &admin, "jos\u{e9}@example.org").await,
            "josé (NFC)",
        );
        refused(
            &create(&app, &admin, "JOSE\u{301}@example.org").await,
            "JOSÉ (NFD)",
        );

        let after = emails(&app, &admin).await;
        assert_eq!(after.len(), before.len() + 2, "{after:?}");
        assert_eq!(
            after
                .iter()
                .filter(|e| e.as_str() == "anna@example.org")
                .count(),
            1
        );
    }
);

db_test!(
    any_spelling_of_an_address_signs_in,
    |app: TestApp| async move {
        let admin = app.admin().await;
        create(&app, &admin, "jos\u{e9}@example.org")
            .await
            .expect(201);
        create(&app, &admin, "anna@example.org").await.expect(201);
        for typed in [
            "jos\u{e9}@example.org",
            "jose\u{301}@example.org",
            "JOSE\u{301}@EXAMPLE.ORG",
            "ａｎｎａ@example.org",
            "ANNA@example.org",
        ] {
            let token = app
                .post(
                    "/api/v1/auth/login",
                    None,
                    json!({"email": typed, "password": PASSWORD}),
                )
                .await
                .expect(200)
                .json();
            assert!(token["access_token"].is_string(), "{typed:?}: {token}");
        }
        // A lookalike is another address: it signs in to nothing.
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"email": "\u{430}nna@example.org", "password": PASSWORD}),
        )
        .await
        .expect_problem(401, "unauthorized");
    }
);

db_test!(
    access_requests_refuse_invisible_characters,
    |app: TestApp| async move {
        for contact in ["an\u{200B}na@example.org", "anna\u{00AD}@example.org"] {
            app.post(
                "/api/v1/access-requests",
                None,
                json!({"group_name": "QGIS Chile", "contact_email": contact, "country": "CL"}),
            )
            .await
            .expect_field_error("contact_email");
        }
        let request = app
        .post(
            "/api/v1/access-requests",
            None,
            json!({"group_name": "QGIS Chile", "contact_email": "ＡＮＮＡ@example.org", "country": "CL"}),
        )
        .await
        .expect(201)
        .json();
        assert_eq!(request["contact_email"], "anna@example.org");
    }
);
