//! The moderation queue: pending entries only, oldest submission first,
//! filters by kind, group and language, and the total count.

use serde_json::{Value, json};

use newsfeed::clock::Clock;

use crate::api::support::{act, id_of};
use crate::common::{self, World};

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(id_of)
        .collect()
}

async fn queue(w: &World, query: &str) -> Value {
    w.app
        .get(
            &format!("/api/v1/moderation/queue{query}"),
            Some(&w.moderator),
        )
        .await
        .expect(200)
        .json()
}

async fn create(w: &World, token: &str, body: Value) -> i64 {
    id_of(
        &w.app
            .post("/api/v1/entries", Some(token), body)
            .await
            .expect(201)
            .json(),
    )
}

db_test!(
    the_queue_is_oldest_first_and_filters,
    World::builder().clock(Clock::manual(1_900_000_000)),
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let announcement = |group: &str, title: &str, language: Value| {
            json!({"group": group, "kind": "announcement", "title": title, "content": "c",
               "language": language})
        };
        let first = create(&w, &w.editor, announcement("alpha", "first", json!("pt"))).await;
        let second = create(&w, &w.editor, announcement("alpha", "second", json!("en"))).await;
        let for_all = create(
            &w,
            &w.other_editor,
            announcement("beta", "all", Value::Null),
        )
        .await;
        let event = create(
            &w,
            &w.other_editor,
            json!({"group": "beta", "kind": "event", "title": "event", "content": "c",
               "language": "en", "starts_at": "2031-01-01T10:00:00Z",
               "ends_at": "2031-01-01T12:00:00Z", "timezone": "UTC"}),
        )
        .await;
        let never_submitted =
            create(&w, &w.editor, announcement("alpha", "draft", json!("en"))).await;
        // Submitted in the opposite order of creation, a second apart.
        for (n, id) in [event, for_all, second, first].into_iter().enumerate() {
            if n > 0 {
                w.app.clock.advance(1);
            }
            let editor = if id == event || id == for_all {
                &w.other_editor
            } else {
                &w.editor
            };
            act(&w.app, editor, id, "submit", json!({}))
                .await
                .expect(200);
        }
        let all = queue(&w, "").await;
        assert_eq!(ids(&all), [event, for_all, second, first]);
        assert_eq!(all["total"], 4);
        assert!(!ids(&all).contains(&never_submitted));
        assert!(
            all["items"]
                .as_array()
                .expect("items")
                .iter()
                .all(|item| item["status"] == "pending")
        );

        assert_eq!(ids(&queue(&w, "?kind=event").await), [event]);
        assert_eq!(
            ids(&queue(&w, "?kind=announcement").await),
            [for_all, second, first]
        );
        assert_eq!(ids(&queue(&w, "?group=alpha").await), [second, first]);
        assert_eq!(
            ids(&queue(&w, "?group=beta&kind=announcement").await),
            [for_all]
        );
        // A language filter keeps entries for every language.
        assert_eq!(ids(&queue(&w, "?lang=pt").await), [for_all, first]);
        assert_eq!(ids(&queue(&w, "?lang=EN").await), [event, for_all, second]);
        // The same forms as the feeds: regions, any case, comma lists.
        assert_eq!(ids(&queue(&w, "?lang=pt_BR").await), [for_all, first]);
        assert_eq!(
            ids(&queue(&w, "?lang=pt-br,en_GB").await),
            [event, for_all, second, first]
        );
        w.app
            .get("/api/v1/moderation/queue?lang=english!", Some(&w.moderator))
            .await
            .expect_problem(400, "bad-request");
        // Paging keeps the total.
        let page = queue(&w, "?limit=2&offset=1").await;
        assert_eq!(ids(&page), [for_all, second]);
        assert_eq!(page["total"], 4);
        // Also a page past the end, which reads the total on its own.
        let past_the_end = queue(&w, "?offset=10").await;
        assert_eq!(ids(&past_the_end), Vec::<i64>::new());
        assert_eq!(past_the_end["total"], 4);
        assert_eq!(
            queue(&w, "?group=alpha&offset=10").await["total"],
            2,
            "a filtered queue counts its rows"
        );
        // An unknown group is 404, not an empty queue.
        w.app
            .get("/api/v1/moderation/queue?group=nope", Some(&w.moderator))
            .await
            .expect_problem(404, "not-found");

        // Decisions take entries out of the queue.
        act(&w.app, &w.moderator, event, "approve", json!({}))
            .await
            .expect(200);
        act(
            &w.app,
            &w.moderator,
            for_all,
            "request-changes",
            json!({"comment": "more"}),
        )
        .await
        .expect(200);
        let after = queue(&w, "").await;
        assert_eq!(ids(&after), [second, first]);
        assert_eq!(after["total"], 2);
        // Resubmitted, an entry goes to the back of the queue.
        act(&w.app, &w.other_editor, for_all, "submit", json!({}))
            .await
            .expect(200);
        assert_eq!(ids(&queue(&w, "").await), [second, first, for_all]);
    }
);

db_test!(
    entry_lists_filter_by_status_kind_and_group,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let draft = crate::api::support::entry_in(&w, "draft", "d").await;
        let pending = crate::api::support::entry_in(&w, "pending", "p").await;
        let approved = crate::api::support::entry_in(&w, "approved", "a").await;
        let list = |query: &'static str| {
            let w = &w;
            async move {
                w.app
                    .get(&format!("/api/v1/entries{query}"), Some(&w.editor))
                    .await
                    .expect(200)
                    .json()
            }
        };
        // Newest first.
        assert_eq!(ids(&list("").await), [approved, pending, draft]);
        assert_eq!(ids(&list("?status=pending").await), [pending]);
        assert_eq!(ids(&list("?status=approved&group=alpha").await), [approved]);
        assert_eq!(ids(&list("?kind=event").await), Vec::<i64>::new());
        let page = list("?limit=1").await;
        assert_eq!(
            (ids(&page), page["total"].clone()),
            (vec![approved], json!(3))
        );
        w.app
            .get("/api/v1/entries?status=lost", Some(&w.editor))
            .await
            .expect_problem(400, "bad-request");
    }
);

db_test!(
    the_queue_total_follows_every_way_into_and_out_of_the_queue,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let announcement = |group: &str, title: &str| json!({"group": group, "kind": "announcement", "title": title, "content": "c"});
        // The unfiltered total comes from the groups' counters; a filter
        // that keeps every (announcement) entry counts the rows: the two agree.
        let totals = || async {
            let counter = queue(&w, "").await["total"].clone();
            let counted = queue(&w, "?kind=announcement").await["total"].clone();
            assert_eq!(counter, counted, "counter and count differ");
            counter
        };
        assert_eq!(totals().await, 0);
        let mut alpha = Vec::new();
        for title in ["one", "two", "three"] {
            let id = create(&w, &w.editor, announcement("alpha", title)).await;
            act(&w.app, &w.editor, id, "submit", json!({}))
                .await
                .expect(200);
            alpha.push(id);
        }
        let beta = create(&w, &w.other_editor, announcement("beta", "b")).await;
        assert_eq!(totals().await, 3, "a draft is not in the queue");
        act(&w.app, &w.other_editor, beta, "submit", json!({}))
            .await
            .expect(200);
        assert_eq!(totals().await, 4);

        act(&w.app, &w.moderator, alpha[0], "approve", json!({}))
            .await
            .expect(200);
        act(&w.app, &w.editor, alpha[1], "withdraw", json!({}))
            .await
            .expect(200);
        act(
            &w.app,
            &w.moderator,
            alpha[2],
            "reject",
            json!({"comment": "no"}),
        )
        .await
        .expect(200);
        assert_eq!(totals().await, 1);
        // An edit of a live entry waits for review again.
        let live: Value = w
            .app
            .get(&format!("/api/v1/entries/{}", alpha[0]), Some(&w.editor))
            .await
            .expect(200)
            .json();
        w.app
            .patch(
                &format!("/api/v1/entries/{}", alpha[0]),
                Some(&w.editor),
                json!({"title": "one, corrected", "version": live["version"]}),
            )
            .await
            .expect(200);
        assert_eq!(totals().await, 2);
        // A removed group's entries leave the queue; restored, they are back.
        w.app
            .patch(
                "/api/v1/groups/beta",
                Some(&w.admin),
                json!({"status": "removed"}),
            )
            .await
            .expect(200);
        assert_eq!(queue(&w, "").await["total"], 1);
        assert_eq!(ids(&queue(&w, "").await), [alpha[0]]);
        w.app
            .patch(
                "/api/v1/groups/beta",
                Some(&w.admin),
                json!({"status": "active"}),
            )
            .await
            .expect(200);
        assert_eq!(totals().await, 2);
    }
);
