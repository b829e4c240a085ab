//! Groups: the public directory, suspension, members, and access requests.

use serde_json::{Value, json};

use crate::api::support::{act, entry, entry_in, group_token, id_of};
use crate::common::{self, World};
use newsfeed::domain::Role;

fn slugs(directory: &Value) -> Vec<String> {
    directory
        .as_array()
        .expect("array")
        .iter()
        .map(|group| group["slug"].as_str().expect("slug").to_string())
        .collect()
}

db_test!(
    the_directory_is_public_and_lists_active_groups,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let admin = Some(w.admin.as_str());
        app.post(
            "/api/v1/groups",
            admin,
            json!({"slug": "qgis-br", "name": "QGIS Brasil", "country": "br",
               "website": "https://qgisbrasil.org/", "contact": "Arthur"}),
        )
        .await
        .expect(201);
        app.group(&w.admin, "gone").await;
        app.patch("/api/v1/groups/beta", admin, json!({"status": "suspended"}))
            .await
            .expect(200);
        app.patch("/api/v1/groups/gone", admin, json!({"status": "removed"}))
            .await
            .expect(200);
        let reply = app.get("/api/v1/groups", None).await;
        let directory = reply.expect(200).json();
        assert_eq!(slugs(&directory), ["alpha", "qgis-br"], "{directory}");
        let brasil = &directory[1];
        assert_eq!(brasil["name"], "QGIS Brasil");
        assert_eq!(brasil["country"], "BR", "countries are stored upper-case");
        assert_eq!(brasil["website"], "https://qgisbrasil.org/");
        assert_eq!(brasil["status"], "active");
        // A contact is often a person's address: admins and the group's owners only.
        assert!(brasil.get("contact").is_none(), "{brasil}");
        let members_view = app
            .get("/api/v1/groups", Some(w.editor.as_str()))
            .await
            .json();
        assert!(members_view[1].get("contact").is_none(), "{members_view}");
        let admin_view = app.get("/api/v1/groups", admin).await.json();
        assert_eq!(admin_view[1]["contact"], "Arthur");
        app.patch(
            "/api/v1/groups/alpha",
            admin,
            json!({"contact": "lead@alpha.example.org"}),
        )
        .await
        .expect(200);
        for (viewer, shown) in [
            (None, false),
            (Some(w.editor.as_str()), false),
            (Some(w.owner.as_str()), true),
        ] {
            let alpha = app
                .get("/api/v1/groups/alpha", viewer)
                .await
                .expect(200)
                .json();
            assert_eq!(alpha.get("contact").is_some(), shown, "{alpha}");
        }
        // Single groups: suspended ones are visible, removed ones are gone.
        let beta = app
            .get("/api/v1/groups/beta", None)
            .await
            .expect(200)
            .json();
        assert_eq!(beta["status"], "suspended");
        app.get("/api/v1/groups/gone", None)
            .await
            .expect_problem(404, "not-found");
        app.get("/api/v1/groups/nope", None)
            .await
            .expect_problem(404, "not-found");
    }
);

db_test!(
    a_suspended_group_cannot_submit,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let (_, token) = group_token(app, &w.owner, "alpha", "ci").await;
        let draft = entry_in(&w, "draft", "before suspension").await;
        let live = entry_in(&w, "approved", "live before suspension").await;
        app.patch(
            "/api/v1/groups/alpha",
            Some(&w.admin),
            json!({"status": "suspended"}),
        )
        .await
        .expect(200);
        let new_entry =
            json!({"group": "alpha", "kind": "announcement", "title": "t", "content": "c"});
        for token in [&w.editor, &w.owner, &token] {
            app.post("/api/v1/entries", Some(token), new_entry.clone())
                .await
                .expect_problem(409, "group-inactive");
            act(app, token, draft, "submit", json!({}))
                .await
                .expect_problem(409, "group-inactive");
        }
        let version = entry(app, &w.editor, draft).await["version"].clone();
        app.patch(
            &format!("/api/v1/entries/{draft}"),
            Some(&w.editor),
            json!({"version": version, "title": "edited"}),
        )
        .await
        .expect_problem(409, "group-inactive");
        assert_eq!(entry(app, &w.editor, draft).await["status"], "draft");
        // A moderator can still take the group's content offline.
        act(
            app,
            &w.moderator,
            live,
            "unpublish",
            json!({"comment": "group suspended"}),
        )
        .await
        .expect(200);
        // Reactivated, it submits again.
        app.patch(
            "/api/v1/groups/alpha",
            Some(&w.admin),
            json!({"status": "active"}),
        )
        .await
        .expect(200);
        act(app, &w.editor, draft, "submit", json!({}))
            .await
            .expect(200);
    }
);

db_test!(owners_manage_members, |app: common::TestApp| async move {
    let w = World::new(app).await;
    let app = &w.app;
    let new_entry = json!({"group": "alpha", "kind": "announcement", "title": "t", "content": "c"});
    app.post("/api/v1/entries", Some(&w.outsider), new_entry.clone())
        .await
        .expect_problem(403, "forbidden");
    let member = app
        .post(
            "/api/v1/groups/alpha/members",
            Some(&w.owner),
            json!({"email": "Outsider@Example.org", "role": "editor"}),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(member["email"], "outsider@example.org");
    assert_eq!(member["role"], "editor");
    let user_id = member["user_id"].as_i64().expect("user_id");
    app.post("/api/v1/entries", Some(&w.outsider), new_entry.clone())
        .await
        .expect(201);
    let me = app
        .get("/api/v1/me", Some(&w.outsider))
        .await
        .expect(200)
        .json();
    assert_eq!(
        me["memberships"],
        json!([{"group": "alpha", "role": "editor"}])
    );
    // Editors do not manage; promoted to owner they do.
    app.get("/api/v1/groups/alpha/tokens", Some(&w.outsider))
        .await
        .expect_problem(403, "forbidden");
    app.post(
        "/api/v1/groups/alpha/members",
        Some(&w.owner),
        json!({"email": "outsider@example.org", "role": "owner"}),
    )
    .await
    .expect(201);
    app.get("/api/v1/groups/alpha/tokens", Some(&w.outsider))
        .await
        .expect(200);
    let members = app
        .get("/api/v1/groups/alpha/members", Some(&w.editor))
        .await
        .expect(200)
        .json();
    assert_eq!(members.as_array().expect("array").len(), 3, "{members}");
    // Removed, they lose access at once.
    app.delete(
        &format!("/api/v1/groups/alpha/members/{user_id}"),
        Some(&w.owner),
    )
    .await
    .expect(204);
    app.post("/api/v1/entries", Some(&w.outsider), new_entry)
        .await
        .expect_problem(403, "forbidden");
    app.delete(
        &format!("/api/v1/groups/alpha/members/{user_id}"),
        Some(&w.owner),
    )
    .await
    .expect_problem(404, "not-found");
    // An owner of alpha manages nothing in beta.
    app.post(
        "/api/v1/groups/beta/members",
        Some(&w.owner),
        json!({"email": "owner@example.org", "role": "owner"}),
    )
    .await
    .expect_problem(403, "forbidden");
});

async fn request_access(app: &common::TestApp, name: &str, email: &str) -> Value {
    app.post(
        "/api/v1/access-requests",
        None,
        json!({"group_name": name, "country": "it", "website": "https://qgis.it/",
               "contact_email": email, "message": "We are the Italian user group"}),
    )
    .await
    .expect(201)
    .json()
}

db_test!(
    approving_an_access_request_creates_the_group,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let requester = app.user("lead@qgis.it", Role::Member).await;
        let request = request_access(app, "QGIS Italia", "Lead@QGIS.it").await;
        assert_eq!(request["status"], "pending");
        assert_eq!(request["slug"], "qgis-italia");
        assert_eq!(request["contact_email"], "lead@qgis.it");
        // Not a group before approval.
        app.get("/api/v1/groups/qgis-italia", None)
            .await
            .expect_problem(404, "not-found");
        let pending = app
            .get("/api/v1/access-requests?status=pending", Some(&w.admin))
            .await
            .expect(200)
            .json();
        assert_eq!(pending.as_array().expect("array").len(), 1);
        let id = id_of(&request);
        let approved = app
            .post(
                &format!("/api/v1/access-requests/{id}/approve"),
                Some(&w.admin),
                json!({}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(approved["status"], "approved");
        let group = app
            .get("/api/v1/groups/qgis-italia", None)
            .await
            .expect(200)
            .json();
        assert_eq!(group["name"], "QGIS Italia");
        assert_eq!(group["country"], "IT");
        assert_eq!(group["status"], "active");
        assert!(
            slugs(&app.get("/api/v1/groups", None).await.expect(200).json())
                .contains(&"qgis-italia".to_string())
        );
        // Whoever typed that address into a public form is not trusted with
        // the group: an account with that email gains nothing by approval.
        let me = app
            .get("/api/v1/me", Some(&requester))
            .await
            .expect(200)
            .json();
        assert_eq!(me["memberships"], json!([]));
        app.post(
            "/api/v1/groups/qgis-italia/tokens",
            Some(&requester),
            json!({"name": "site"}),
        )
        .await
        .expect_problem(403, "forbidden");
        // Deciding again is a conflict, either way.
        app.post(
            &format!("/api/v1/access-requests/{id}/approve"),
            Some(&w.admin),
            json!({}),
        )
        .await
        .expect_problem(409, "invalid-transition");
        app.post(
            &format!("/api/v1/access-requests/{id}/reject"),
            Some(&w.admin),
            json!({"comment": "changed my mind"}),
        )
        .await
        .expect_problem(409, "invalid-transition");
        app.post(
            "/api/v1/access-requests/99999/approve",
            Some(&w.admin),
            json!({}),
        )
        .await
        .expect_problem(404, "not-found");
    }
);

db_test!(
    nothing_of_a_suspended_or_removed_group_is_approved,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let pending = entry_in(&w, "pending", "waiting").await;
        let approve = format!("/api/v1/moderation/entries/{pending}/approve");
        app.patch(
            "/api/v1/groups/alpha",
            Some(&w.admin),
            json!({"status": "suspended"}),
        )
        .await
        .expect(200);
        let problem = app
            .post(&approve, Some(&w.moderator), json!({}))
            .await
            .expect_problem(409, "group-inactive");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("alpha is suspended")),
            "{problem}"
        );
        let queue = || async {
            app.get("/api/v1/moderation/queue", Some(&w.moderator))
                .await
                .expect(200)
                .json()["total"]
                .clone()
        };
        // A suspended group's entry waits in the queue (it may be rejected).
        assert_eq!(queue().await, 1);
        app.patch(
            "/api/v1/groups/alpha",
            Some(&w.admin),
            json!({"status": "removed"}),
        )
        .await
        .expect(200);
        app.post(&approve, Some(&w.moderator), json!({}))
            .await
            .expect_problem(409, "group-inactive");
        assert_eq!(queue().await, 0);
        assert_eq!(entry(app, &w.admin, pending).await["status"], "pending");
        assert!(
            !app.get("/?json=1", None)
                .await
                .text
                .contains(&format!("\"pk\":{pending}"))
        );
        // Admins still see the removed group; everyone else gets 404.
        let removed = app
            .get("/api/v1/groups/alpha", Some(&w.admin))
            .await
            .expect(200)
            .json();
        assert_eq!(removed["status"], "removed");
        for token in [None, Some(w.moderator.as_str())] {
            app.get("/api/v1/groups/alpha", token)
                .await
                .expect_problem(404, "not-found");
        }
        app.get("/api/v1/groups/alpha", Some("garbage"))
            .await
            .expect_problem(401, "unauthorized");
    }
);

db_test!(
    a_burst_of_access_requests_gets_exactly_the_budget,
    common::TestApp::builder().config(|c| c.access_requests_per_hour = 5),
    |app: common::TestApp| async move {
        let bodies: Vec<Value> = (0..20)
            .map(|n| json!({"group_name": format!("Burst {n}"), "contact_email": format!("b{n}@example.org")}))
            .collect();
        let replies = futures_util::future::join_all(
            bodies
                .iter()
                .map(|body| app.post("/api/v1/access-requests", None, body.clone())),
        )
        .await;
        let created = replies.iter().filter(|r| r.status == 201).count();
        assert_eq!(
            created,
            5,
            "{:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        for reply in replies.iter().filter(|r| r.status != 201) {
            reply.expect_problem(429, "rate-limited");
        }
        // Once the budget is spent, even an invalid request is refused before any work.
        app.post(
            "/api/v1/access-requests",
            None,
            json!({"group_name": "", "contact_email": "x"}),
        )
        .await
        .expect_problem(429, "rate-limited");
    }
);

db_test!(
    an_unregistered_requester_is_invited_to_own_the_group,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let request = request_access(app, "QGIS Nowhere", "someone@nowhere.org").await;
        app.post(
            &format!("/api/v1/access-requests/{}/approve", id_of(&request)),
            Some(&w.admin),
            json!({}),
        )
        .await
        .expect(200);
        let members = app
            .get("/api/v1/groups/qgis-nowhere/members", Some(&w.admin))
            .await
            .expect(200)
            .json();
        assert_eq!(members.as_array().map(Vec::len), Some(1), "{members}");
        assert_eq!(members[0]["email"], "someone@nowhere.org");
        assert_eq!(members[0]["role"], "owner");
        // Invited, not trusted: only the mailed link sets a password.
        for password in ["", common::PASSWORD] {
            app.post(
                "/api/v1/auth/login",
                None,
                json!({"email": "someone@nowhere.org", "password": password}),
            )
            .await
            .expect(401);
        }
    }
);

db_test!(
    rejecting_an_access_request_needs_a_reason,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let request = request_access(app, "QGIS Spam", "spam@example.org").await;
        let path = format!("/api/v1/access-requests/{}/reject", id_of(&request));
        for body in [
            json!({}),
            json!({"comment": "  "}),
            json!({"comment": null}),
        ] {
            app.post(&path, Some(&w.admin), body)
                .await
                .expect_field_error("comment");
        }
        let rejected = app
            .post(
                &path,
                Some(&w.admin),
                json!({"comment": "Not a QGIS user group"}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(rejected["status"], "rejected");
        assert_eq!(rejected["decision_comment"], "Not a QGIS user group");
        app.get("/api/v1/groups/qgis-spam", None)
            .await
            .expect_problem(404, "not-found");
        app.post(&path, Some(&w.admin), json!({"comment": "again"}))
            .await
            .expect_problem(409, "invalid-transition");
        app.post(
            &format!("/api/v1/access-requests/{}/approve", id_of(&request)),
            Some(&w.admin),
            json!({}),
        )
        .await
        .expect_problem(409, "invalid-transition");
        let rejected_list = app
            .get("/api/v1/access-requests?status=rejected", Some(&w.admin))
            .await
            .expect(200)
            .json();
        assert_eq!(rejected_list.as_array().expect("array").len(), 1);
    }
);

db_test!(
    approving_a_request_for_a_taken_slug_is_a_conflict,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let request = app
        .post(
            "/api/v1/access-requests",
            None,
            json!({"group_name": "Another Alpha", "slug": "alpha", "contact_email": "a@example.org"}),
        )
        .await
        .expect(201)
        .json();
        app.post(
            &format!("/api/v1/access-requests/{}/approve", id_of(&request)),
            Some(&w.admin),
            json!({}),
        )
        .await
        .expect_problem(409, "duplicate");
        // Nothing changed: the request is still pending, alpha is still alpha.
        let pending = app
            .get("/api/v1/access-requests?status=pending", Some(&w.admin))
            .await
            .expect(200)
            .json();
        assert_eq!(pending[0]["id"], request["id"]);
        let alpha = app
            .get("/api/v1/groups/alpha", None)
            .await
            .expect(200)
            .json();
        assert_eq!(alpha["name"], "Group alpha");
    }
);

db_test!(
    the_public_access_request_form_is_rate_limited,
    common::TestApp::builder().config(|c| c.access_requests_per_hour = 2),
    |app: common::TestApp| async move {
        let ask = |n: usize| json!({"group_name": format!("Group {n}"), "contact_email": format!("g{n}@example.org")});
        for n in 0..2 {
            app.post("/api/v1/access-requests", None, ask(n))
                .await
                .expect(201);
        }
        let reply = app.post("/api/v1/access-requests", None, ask(2)).await;
        reply.expect_problem(429, "rate-limited");
        assert!(reply.header("retry-after").is_some(), "{:?}", reply.headers);
    }
);
