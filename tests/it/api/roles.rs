//! The permission matrix: every kind of caller against every endpoint and
//! action, each cell on fresh fixtures, asserting the exact status a client sees.

use poem::http::Method;
use serde_json::{Value, json};

use crate::api::support::{entry, entry_in, group_token, id_of};
use crate::common::{self, TestApp, World};
use newsfeed::domain::Role;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Actor {
    Anonymous,
    Admin,
    Moderator,
    /// Owner of `alpha`.
    Owner,
    /// Editor of `alpha`.
    Editor,
    /// Editor of `beta` only.
    OtherEditor,
    /// A member with no group.
    Outsider,
    /// An API token of `alpha`.
    Token,
    /// A revoked API token of `alpha`.
    Revoked,
}

const ACTORS: [Actor; 9] = [
    Actor::Anonymous,
    Actor::Admin,
    Actor::Moderator,
    Actor::Owner,
    Actor::Editor,
    Actor::OtherEditor,
    Actor::Outsider,
    Actor::Token,
    Actor::Revoked,
];

struct Cast {
    world: World,
    token: String,
    revoked: String,
    spare_email: String,
}

impl Cast {
    async fn new(app: TestApp) -> Self {
        let world = World::new(app).await;
        let (_, token) = group_token(&world.app, &world.owner, "alpha", "site").await;
        let (revoked_id, revoked) = group_token(&world.app, &world.owner, "alpha", "old").await;
        world
            .app
            .delete(
                &format!("/api/v1/groups/alpha/tokens/{revoked_id}"),
                Some(&world.owner),
            )
            .await
            .expect(200);
        let spare_email = "spare@example.org".to_string();
        world.app.user(&spare_email, Role::Member).await;
        Self {
            world,
            token,
            revoked,
            spare_email,
        }
    }

    fn bearer(&self, actor: Actor) -> Option<&str> {
        let w = &self.world;
        Some(match actor {
            Actor::Anonymous => return None,
            Actor::Admin => &w.admin,
            Actor::Moderator => &w.moderator,
            Actor::Owner => &w.owner,
            Actor::Editor => &w.editor,
            Actor::OtherEditor => &w.other_editor,
            Actor::Outsider => &w.outsider,
            Actor::Token => &self.token,
            Actor::Revoked => &self.revoked,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Me,
    CreateUser,
    ListUsers,
    UpdateUser,
    ListGroups,
    GetGroup,
    CreateGroup,
    UpdateGroup,
    ListMembers,
    AddMember,
    RemoveMember,
    ListTokens,
    CreateToken,
    RevokeToken,
    CreateAccessRequest,
    ListAccessRequests,
    ApproveAccessRequest,
    RejectAccessRequest,
    CreateEntry,
    CreateEntryInBeta,
    ListEntries,
    GetDraft,
    GetPending,
    GetApproved,
    PatchDraft,
    PatchPending,
    DeleteDraft,
    Submit,
    Withdraw,
    HistoryOfDraft,
    HistoryOfPending,
    Queue,
    Approve,
    Reject,
    RequestChanges,
    Unpublish,
    Comment,
}

// Columns: anonymous, admin, moderator, owner, editor, other editor, outsider, token, revoked.
#[rustfmt::skip]
const MATRIX: &[(Op, [u16; 9])] = &[
    (Op::Me,                   [401, 200, 200, 200, 200, 200, 200, 200, 401]),
    (Op::CreateUser,           [401, 201, 403, 403, 403, 403, 403, 403, 401]),
    (Op::ListUsers,            [401, 200, 403, 403, 403, 403, 403, 403, 401]),
    (Op::UpdateUser,           [401, 200, 403, 403, 403, 403, 403, 403, 401]),
    (Op::ListGroups,           [200, 200, 200, 200, 200, 200, 200, 200, 401]),
    // Public, but a credential that is sent must be valid (admins see removed groups).
    (Op::GetGroup,             [200, 200, 200, 200, 200, 200, 200, 200, 401]),
    (Op::CreateGroup,          [401, 201, 403, 403, 403, 403, 403, 403, 401]),
    (Op::UpdateGroup,          [401, 200, 403, 403, 403, 403, 403, 403, 401]),
    (Op::ListMembers,          [401, 200, 200, 200, 200, 403, 403, 200, 401]),
    (Op::AddMember,            [401, 201, 403, 201, 403, 403, 403, 403, 401]),
    (Op::RemoveMember,         [401, 204, 403, 204, 403, 403, 403, 403, 401]),
    (Op::ListTokens,           [401, 200, 403, 200, 403, 403, 403, 403, 401]),
    (Op::CreateToken,          [401, 201, 403, 201, 403, 403, 403, 403, 401]),
    (Op::RevokeToken,          [401, 200, 403, 200, 403, 403, 403, 403, 401]),
    (Op::CreateAccessRequest,  [201, 201, 201, 201, 201, 201, 201, 201, 201]),
    (Op::ListAccessRequests,   [401, 200, 403, 403, 403, 403, 403, 403, 401]),
    (Op::ApproveAccessRequest, [401, 200, 403, 403, 403, 403, 403, 403, 401]),
    (Op::RejectAccessRequest,  [401, 200, 403, 403, 403, 403, 403, 403, 401]),
    (Op::CreateEntry,          [401, 201, 403, 201, 201, 403, 403, 201, 401]),
    (Op::CreateEntryInBeta,    [401, 201, 403, 403, 403, 201, 403, 403, 401]),
    (Op::ListEntries,          [401, 200, 200, 200, 200, 200, 200, 200, 401]),
    (Op::GetDraft,             [401, 200, 404, 200, 200, 404, 404, 200, 401]),
    (Op::GetPending,           [401, 200, 200, 200, 200, 404, 404, 200, 401]),
    (Op::GetApproved,          [401, 200, 200, 200, 200, 404, 404, 200, 401]),
    (Op::PatchDraft,           [401, 200, 404, 200, 200, 404, 404, 200, 401]),
    (Op::PatchPending,         [401, 200, 200, 200, 200, 404, 404, 200, 401]),
    (Op::DeleteDraft,          [401, 204, 404, 204, 204, 404, 404, 204, 401]),
    (Op::Submit,               [401, 200, 404, 200, 200, 404, 404, 200, 401]),
    (Op::Withdraw,             [401, 200, 403, 200, 200, 404, 404, 200, 401]),
    (Op::HistoryOfDraft,       [401, 200, 404, 200, 200, 404, 404, 200, 401]),
    (Op::HistoryOfPending,     [401, 200, 200, 200, 200, 404, 404, 200, 401]),
    (Op::Queue,                [401, 200, 200, 403, 403, 403, 403, 403, 401]),
    (Op::Approve,              [401, 200, 200, 403, 403, 404, 404, 403, 401]),
    (Op::Reject,               [401, 200, 200, 403, 403, 404, 404, 403, 401]),
    (Op::RequestChanges,       [401, 200, 200, 403, 403, 404, 404, 403, 401]),
    (Op::Unpublish,            [401, 200, 200, 403, 403, 404, 404, 403, 401]),
    (Op::Comment,              [401, 200, 200, 200, 200, 404, 404, 200, 401]),
];

// Builds the request of one cell, creating whatever it acts on afresh.
async fn prepare(cast: &Cast, op: Op, n: usize) -> (Method, String, Option<Value>) {
    let w = &cast.world;
    let app = &w.app;
    let title = format!("{op:?} {n}");
    let reason = json!({"comment": "because"});
    match op {
        Op::Me => (Method::GET, "/api/v1/me".into(), None),
        Op::CreateUser => (
            Method::POST,
            "/api/v1/users".into(),
            Some(
                json!({"email": format!("new{n}@example.org"), "password": "long enough pw",
                        "display_name": "New", "role": "member"}),
            ),
        ),
        Op::ListUsers => (Method::GET, "/api/v1/users".into(), None),
        Op::UpdateUser => {
            let me = app
                .get("/api/v1/me", Some(&w.outsider))
                .await
                .expect(200)
                .json();
            (
                Method::PATCH,
                format!("/api/v1/users/{}", me["id"]),
                Some(json!({"display_name": format!("Outsider {n}")})),
            )
        }
        Op::ListGroups => (Method::GET, "/api/v1/groups".into(), None),
        Op::GetGroup => (Method::GET, "/api/v1/groups/alpha".into(), None),
        Op::CreateGroup => (
            Method::POST,
            "/api/v1/groups".into(),
            Some(json!({"slug": format!("new-{n}"), "name": "New group", "country": "FR"})),
        ),
        Op::UpdateGroup => (
            Method::PATCH,
            "/api/v1/groups/alpha".into(),
            Some(json!({"name": format!("Alpha {n}")})),
        ),
        Op::ListMembers => (Method::GET, "/api/v1/groups/alpha/members".into(), None),
        Op::AddMember => (
            Method::POST,
            "/api/v1/groups/alpha/members".into(),
            Some(json!({"email": cast.spare_email, "role": "editor"})),
        ),
        Op::RemoveMember => {
            let member = app
                .post(
                    "/api/v1/groups/alpha/members",
                    Some(&w.admin),
                    json!({"email": cast.spare_email, "role": "editor"}),
                )
                .await
                .expect(201)
                .json();
            let user_id = member["user_id"].as_i64().expect("user_id");
            (
                Method::DELETE,
                format!("/api/v1/groups/alpha/members/{user_id}"),
                None,
            )
        }
        Op::ListTokens => (Method::GET, "/api/v1/groups/alpha/tokens".into(), None),
        Op::CreateToken => (
            Method::POST,
            "/api/v1/groups/alpha/tokens".into(),
            Some(json!({"name": title})),
        ),
        Op::RevokeToken => {
            let (id, _) = group_token(app, &w.admin, "alpha", &title).await;
            (
                Method::DELETE,
                format!("/api/v1/groups/alpha/tokens/{id}"),
                None,
            )
        }
        Op::CreateAccessRequest => (
            Method::POST,
            "/api/v1/access-requests".into(),
            Some(json!({"group_name": format!("Request {n}"), "contact_email": "x@example.org"})),
        ),
        Op::ListAccessRequests => (Method::GET, "/api/v1/access-requests".into(), None),
        Op::ApproveAccessRequest | Op::RejectAccessRequest => {
            let request = app
                .post(
                    "/api/v1/access-requests",
                    None,
                    json!({"group_name": format!("Request {n}"), "contact_email": "x@example.org"}),
                )
                .await
                .expect(201)
                .json();
            let id = id_of(&request);
            let verb = if matches!(op, Op::ApproveAccessRequest) {
                "approve"
            } else {
                "reject"
            };
            (
                Method::POST,
                format!("/api/v1/access-requests/{id}/{verb}"),
                Some(reason),
            )
        }
        Op::CreateEntry | Op::CreateEntryInBeta => {
            let group = if matches!(op, Op::CreateEntry) {
                "alpha"
            } else {
                "beta"
            };
            (
                Method::POST,
                "/api/v1/entries".into(),
                Some(
                    json!({"group": group, "kind": "announcement", "title": title,
                            "content": "<p>x</p>"}),
                ),
            )
        }
        Op::ListEntries => (Method::GET, "/api/v1/entries".into(), None),
        Op::GetDraft | Op::GetPending | Op::GetApproved => {
            let status = match op {
                Op::GetDraft => "draft",
                Op::GetPending => "pending",
                _ => "approved",
            };
            let id = entry_in(w, status, &title).await;
            (Method::GET, format!("/api/v1/entries/{id}"), None)
        }
        Op::PatchDraft | Op::PatchPending => {
            let status = if matches!(op, Op::PatchDraft) {
                "draft"
            } else {
                "pending"
            };
            let id = entry_in(w, status, &title).await;
            let version = entry(app, &w.admin, id).await["version"].clone();
            (
                Method::PATCH,
                format!("/api/v1/entries/{id}"),
                Some(json!({"version": version, "title": format!("{title} edited")})),
            )
        }
        Op::DeleteDraft => {
            let id = entry_in(w, "draft", &title).await;
            (Method::DELETE, format!("/api/v1/entries/{id}"), None)
        }
        Op::Submit => {
            let id = entry_in(w, "draft", &title).await;
            (
                Method::POST,
                format!("/api/v1/entries/{id}/submit"),
                Some(json!({})),
            )
        }
        Op::Withdraw => {
            let id = entry_in(w, "pending", &title).await;
            (
                Method::POST,
                format!("/api/v1/entries/{id}/withdraw"),
                Some(json!({})),
            )
        }
        Op::HistoryOfDraft | Op::HistoryOfPending => {
            let status = if matches!(op, Op::HistoryOfDraft) {
                "draft"
            } else {
                "pending"
            };
            let id = entry_in(w, status, &title).await;
            (Method::GET, format!("/api/v1/entries/{id}/history"), None)
        }
        Op::Queue => (Method::GET, "/api/v1/moderation/queue".into(), None),
        Op::Approve | Op::Reject | Op::RequestChanges | Op::Comment => {
            let id = entry_in(w, "pending", &title).await;
            let action = match op {
                Op::Approve => "approve",
                Op::Reject => "reject",
                Op::RequestChanges => "request-changes",
                _ => "comment",
            };
            (
                Method::POST,
                format!("/api/v1/moderation/entries/{id}/{action}"),
                Some(reason),
            )
        }
        Op::Unpublish => {
            let id = entry_in(w, "approved", &title).await;
            (
                Method::POST,
                format!("/api/v1/moderation/entries/{id}/unpublish"),
                Some(reason),
            )
        }
    }
}

db_test!(
    every_role_against_every_endpoint,
    |app: common::TestApp| async move {
        let cast = Cast::new(app).await;
        let mut mismatches = Vec::new();
        let mut cells = 0;
        for (op, expected) in MATRIX {
            for (actor, expected) in ACTORS.iter().zip(expected) {
                cells += 1;
                let (method, path, body) = prepare(&cast, *op, cells).await;
                let reply = cast
                    .world
                    .app
                    .call(method.clone(), &path, cast.bearer(*actor), body)
                    .await;
                let status = reply.status.as_u16();
                if status != *expected {
                    mismatches.push(format!(
                        "{op:?} as {actor:?}: {method} {path} -> {status}, expected {expected}: {}",
                        reply.text
                    ));
                } else if status >= 400 {
                    // Every refusal is a problem document carrying the same status.
                    let problem_json =
                        reply.header("content-type") == Some("application/problem+json");
                    if !problem_json || reply.json()["status"] != status {
                        mismatches.push(format!(
                            "{op:?} as {actor:?}: {status} is not problem+json: {:?} {}",
                            reply.header("content-type"),
                            reply.text
                        ));
                    }
                }
            }
        }
        assert_eq!(cells, MATRIX.len() * ACTORS.len());
        assert!(
            mismatches.is_empty(),
            "{} of {cells} cells differ:\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
    }
);

// Lists and the queue only show what the caller may see.
db_test!(
    lists_show_only_what_each_role_may_see,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let alpha_draft = entry_in(&w, "draft", "alpha draft").await;
        let alpha_pending = entry_in(&w, "pending", "alpha pending").await;
        let beta_draft = id_of(&app.draft(&w.other_editor, "beta", "beta draft").await);
        let ids = |reply: &common::Reply| -> Vec<i64> {
            let body = reply.json();
            let items = body["items"].as_array().expect("items");
            assert_eq!(body["total"].as_u64(), Some(items.len() as u64), "{body}");
            let mut ids: Vec<i64> = items.iter().map(id_of).collect();
            ids.sort();
            ids
        };
        let list = |token: String| async move { app.get("/api/v1/entries", Some(&token)).await };
        let mut all = vec![alpha_draft, alpha_pending, beta_draft];
        all.sort();
        assert_eq!(ids(list(w.admin.clone()).await.expect(200)), all);
        assert_eq!(
            ids(list(w.editor.clone()).await.expect(200)),
            [alpha_draft, alpha_pending]
        );
        assert_eq!(
            ids(list(w.owner.clone()).await.expect(200)),
            [alpha_draft, alpha_pending]
        );
        assert_eq!(
            ids(list(w.other_editor.clone()).await.expect(200)),
            [beta_draft]
        );
        assert_eq!(
            ids(list(w.outsider.clone()).await.expect(200)),
            Vec::<i64>::new()
        );
        // Moderators see every group's entries except drafts.
        assert_eq!(
            ids(list(w.moderator.clone()).await.expect(200)),
            [alpha_pending]
        );
        // A group filter cannot widen what an editor sees.
        let reply = app
            .get("/api/v1/entries?group=alpha", Some(&w.other_editor))
            .await;
        assert_eq!(ids(reply.expect(200)), Vec::<i64>::new());
        let reply = app
            .get("/api/v1/entries?kind=announcement", Some(&w.other_editor))
            .await;
        assert_eq!(ids(reply.expect(200)), [beta_draft]);
        // Nor can a status filter show drafts to a moderator.
        let reply = app
            .get("/api/v1/entries?status=draft", Some(&w.moderator))
            .await;
        assert_eq!(ids(reply.expect(200)), Vec::<i64>::new());
        let reply = app
            .get("/api/v1/entries?group=beta", Some(&w.moderator))
            .await;
        assert_eq!(ids(reply.expect(200)), Vec::<i64>::new());
        // The queue holds the pending entry only.
        let queue = app
            .get("/api/v1/moderation/queue", Some(&w.moderator))
            .await;
        assert_eq!(ids(queue.expect(200)), [alpha_pending]);
    }
);

// A token acts for its own group only, and one of a removed group stops working.
db_test!(
    tokens_are_bound_to_their_group,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let (_, token) = group_token(app, &w.owner, "alpha", "ci").await;
        let beta_draft = id_of(&app.draft(&w.other_editor, "beta", "beta draft").await);
        app.get(&format!("/api/v1/entries/{beta_draft}"), Some(&token))
            .await
            .expect_problem(404, "not-found");
        app.post(
            "/api/v1/entries",
            Some(&token),
            json!({"group": "beta", "kind": "announcement", "title": "x", "content": "y"}),
        )
        .await
        .expect_problem(403, "forbidden");
        // Tokens cannot manage their group: no new tokens, no members.
        app.post(
            "/api/v1/groups/alpha/tokens",
            Some(&token),
            json!({"name": "more"}),
        )
        .await
        .expect_problem(403, "forbidden");
        app.patch(
            "/api/v1/groups/alpha",
            Some(&w.admin),
            json!({"status": "removed"}),
        )
        .await
        .expect(200);
        app.get("/api/v1/entries", Some(&token))
            .await
            .expect_problem(401, "unauthorized");
    }
);
