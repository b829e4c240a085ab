//! Administration pages: groups, people, tokens, access requests.

use serde_json::json;

use crate::common::{TestApp, World};
use crate::web::support::Browser;

const ADMIN: &str = "admin@example.org";
const OWNER: &str = "owner@example.org";

db_test!(
    admins_create_groups_with_errors_next_to_fields,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, ADMIN).await;
        browser
            .get("/admin/groups")
            .await
            .expect(200)
            .expect_text("/admin/groups/alpha");
        let taken = browser
            .post(
                "/admin/groups",
                &[
                    ("name", "Alpha again"),
                    ("slug", "alpha"),
                    ("country", "DE"),
                ],
            )
            .await;
        taken.expect(422);
        assert!(
            taken
                .field_error("slug")
                .unwrap()
                .contains("already exists")
        );
        let bad = browser
            .post(
                "/admin/groups",
                &[("name", ""), ("slug", "Bad Slug"), ("country", "XX")],
            )
            .await;
        bad.expect(422);
        assert!(
            bad.field_error("name").is_some()
                && bad.field_error("slug").is_some()
                && bad.field_error("country").is_some()
        );
        let made = browser
            .post(
                "/admin/groups",
                &[
                    ("name", "QGIS Brasil"),
                    ("slug", "qgis-brasil"),
                    ("country", "BR"),
                    ("website", ""),
                    ("contact", ""),
                ],
            )
            .await;
        assert_eq!(made.expect(303).location(), "/admin/groups/qgis-brasil");
        world
            .app
            .get("/api/v1/groups/qgis-brasil", None)
            .await
            .expect(200);
        // Suspending is confirmed.
        browser.get("/admin/groups/qgis-brasil").await.expect(200);
        browser
            .post(
                "/admin/groups/qgis-brasil/status",
                &[("status", "suspended")],
            )
            .await
            .expect(422);
        browser
            .post(
                "/admin/groups/qgis-brasil/status",
                &[("status", "suspended"), ("confirm", "on")],
            )
            .await
            .expect(303);
        assert_eq!(
            world
                .app
                .get("/api/v1/groups/qgis-brasil", None)
                .await
                .json()["status"],
            "suspended"
        );
    }
);

db_test!(
    an_invitation_shows_its_link_to_the_admin,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, ADMIN).await;
        let done = browser
            .submit(
                "/admin/users",
                "/admin/users",
                &[
                    ("email", "mia@example.org"),
                    ("display_name", "Mia"),
                    ("role", "moderator"),
                    ("group", ""),
                    ("group_role", "editor"),
                ],
            )
            .await;
        let page = browser.follow(&done).await;
        page.expect(200).expect_text("mia@example.org is invited");
        let start = page.text.find("/invite/").unwrap();
        let link: String = page.text[start..]
            .chars()
            .take_while(|c| *c != '"' && *c != '<')
            .collect();
        let invited = Browser::new(&world.app);
        invited
            .get(&link)
            .await
            .expect(200)
            .expect_text("mia@example.org");
        let done = invited
            .post(
                &link,
                &[
                    ("password", "mia's own password"),
                    ("password_confirmation", "mia's own password"),
                ],
            )
            .await;
        assert_eq!(done.expect(303).location(), "/moderation");
        // Inviting someone who has an account already is said next to the address.
        let again = browser
            .submit(
                "/admin/users",
                "/admin/users",
                &[("email", "mia@example.org"), ("role", "member")],
            )
            .await;
        again.expect(422);
        assert!(
            again
                .field_error("email")
                .unwrap()
                .contains("already has an account")
        );
    }
);

db_test!(
    owners_manage_their_group_and_no_other,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let owner = Browser::signed_in(&world.app, OWNER).await;
        let page = owner.get("/admin/groups/alpha").await;
        page.expect(200)
            .expect_text("Add a person")
            .expect_text("API tokens");
        assert!(
            !page.has("Change status"),
            "only admins change a group's status"
        );
        owner.get("/admin/groups/beta").await.expect(403);
        owner.get("/admin/groups").await.expect(403);
        owner.get("/admin/users").await.expect(403);
        // An existing account joins; a new address is invited (the link is
        // for admins to pass on: only they see links meant for someone else).
        owner
            .post(
                "/admin/groups/alpha/people",
                &[("email", "outsider@example.org"), ("role", "editor")],
            )
            .await
            .expect(303);
        let invited = owner
            .post(
                "/admin/groups/alpha/people",
                &[
                    ("email", "new@example.org"),
                    ("display_name", "New"),
                    ("role", "editor"),
                ],
            )
            .await;
        let page = owner.follow(&invited).await;
        page.expect_text("new@example.org is editor of the group")
            .expect_text("an admin can give them their invitation link")
            .expect_text("invited, no password yet");
        assert!(!page.has("/invite/"));
        let members = world
            .app
            .get("/api/v1/groups/alpha/members", Some(&world.owner))
            .await
            .json();
        assert_eq!(members.as_array().unwrap().len(), 4);
        // A token is shown once and works.
        let created = owner
            .post("/admin/groups/alpha/tokens", &[("name", "website CI")])
            .await;
        created.expect(201).expect_text("shown this once");
        let start =
            created.text.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
        let secret: String = created.text[start..]
            .chars()
            .take_while(|c| *c != '<')
            .collect();
        world.app.get("/api/v1/me", Some(&secret)).await.expect(200);
        assert!(
            !owner.get("/admin/groups/alpha").await.has(&secret),
            "never shown again"
        );
        let tokens = world
            .app
            .get("/api/v1/groups/alpha/tokens", Some(&world.owner))
            .await
            .json();
        let token_id = tokens[0]["id"].to_string();
        owner
            .post(
                "/admin/groups/alpha/revoke-token",
                &[("token_id", &token_id)],
            )
            .await
            .expect(422);
        owner
            .post(
                "/admin/groups/alpha/revoke-token",
                &[("token_id", &token_id), ("confirm", "on")],
            )
            .await
            .expect(303);
        world.app.get("/api/v1/me", Some(&secret)).await.expect(401);
        // Editors cannot manage; other groups' owners neither.
        let editor = Browser::signed_in(&world.app, "editor@example.org").await;
        editor.get("/admin/groups/alpha").await.expect(403);
        editor
            .post("/admin/groups/alpha/tokens", &[("name", "sneaky")])
            .await
            .expect(403);
    }
);

db_test!(
    admins_set_roles_and_disable_people_with_confirmation,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, ADMIN).await;
        let me = world
            .app
            .get("/api/v1/me", Some(&world.outsider))
            .await
            .json()["id"]
            .to_string();
        let admin_id =
            world.app.get("/api/v1/me", Some(&world.admin)).await.json()["id"].to_string();
        browser
            .get("/admin/users")
            .await
            .expect(200)
            .expect_text("outsider@example.org");
        browser
            .post(
                &format!("/admin/users/{me}"),
                &[("change", "role"), ("role", "moderator")],
            )
            .await
            .expect(303);
        assert_eq!(
            world
                .app
                .get("/api/v1/me", Some(&world.outsider))
                .await
                .json()["role"],
            "moderator"
        );
        browser
            .post(&format!("/admin/users/{me}"), &[("change", "disable")])
            .await
            .expect(422);
        browser
            .post(
                &format!("/admin/users/{me}"),
                &[("change", "disable"), ("confirm", "on")],
            )
            .await
            .expect(303);
        world
            .app
            .get("/api/v1/me", Some(&world.outsider))
            .await
            .expect(401);
        let myself = browser
            .post(
                &format!("/admin/users/{admin_id}"),
                &[("change", "role"), ("role", "member")],
            )
            .await;
        myself
            .expect(409)
            .expect_text("You cannot demote or disable yourself");
    }
);

db_test!(
    access_requests_are_approved_or_rejected_with_a_reason,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        for name in ["QGIS Chile", "Spam Group"] {
            world
                .app
                .post(
                    "/api/v1/access-requests",
                    None,
                    json!({"group_name": name, "contact_email": "x@example.org", "country": "CL"}),
                )
                .await
                .expect(201);
        }
        let requests = world
            .app
            .get("/api/v1/access-requests", Some(&world.admin))
            .await
            .json();
        let (chile, spam) = (requests[0]["id"].to_string(), requests[1]["id"].to_string());
        let browser = Browser::signed_in(&world.app, ADMIN).await;
        browser
            .get("/admin/access-requests")
            .await
            .expect(200)
            .expect_text("QGIS Chile");
        browser
            .post(&format!("/admin/access-requests/{chile}/approve"), &[])
            .await
            .expect(422);
        browser
            .post(
                &format!("/admin/access-requests/{chile}/approve"),
                &[("confirm", "on")],
            )
            .await
            .expect(303);
        world
            .app
            .get("/api/v1/groups/qgis-chile", None)
            .await
            .expect(200);
        let no_reason = browser
            .post(
                &format!("/admin/access-requests/{spam}/reject"),
                &[("comment", "")],
            )
            .await;
        no_reason
            .expect(422)
            .expect_text("a reason is required to reject");
        browser
            .post(
                &format!("/admin/access-requests/{spam}/reject"),
                &[("comment", "not a user group")],
            )
            .await
            .expect(303);
        let twice = browser
            .post(
                &format!("/admin/access-requests/{spam}/reject"),
                &[("comment", "again")],
            )
            .await;
        twice.expect(409).expect_text("already rejected");
        Browser::signed_in(&world.app, "mod@example.org")
            .await
            .get("/admin/access-requests")
            .await
            .expect(403);
    }
);
