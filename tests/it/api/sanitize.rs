//! Content is sanitized on the way in: what GET returns is safe to insert into a page.

use serde_json::{Value, json};

use crate::api::support::{entry, id_of};
use crate::common::{self, World};

/// Markup that must never come back, whatever the spelling.
const DANGEROUS: [&str; 9] = [
    "<script",
    "javascript:",
    "onerror",
    "onclick",
    "onload",
    "onmouseover",
    "<iframe",
    "<style",
    "vbscript:",
];

#[track_caller]
fn assert_safe(content: &str) {
    let lower = content.to_lowercase();
    for bad in DANGEROUS {
        assert!(!lower.contains(bad), "`{bad}` survived in {content}");
    }
    assert!(!lower.contains("data:text/html"), "{content}");
    assert!(!lower.contains("<img"), "{content}");
    assert!(!lower.contains("style="), "{content}");
}

async fn create(w: &World, content: &str) -> Value {
    w.app
        .post(
            "/api/v1/entries",
            Some(&w.editor),
            json!({"group": "alpha", "kind": "announcement", "title": "Sanitize",
                   "content": content}),
        )
        .await
        .expect(201)
        .json()
}

db_test!(
    scripts_handlers_and_javascript_urls_are_stripped,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let cases = [
            r#"<p>Hello<script>alert(1)</script> world</p>"#,
            r#"<p onclick="steal()">Click</p>"#,
            r#"<p>x<img src=x onerror=alert(1)></p>"#,
            r#"<a href="javascript:alert(1)">link</a>"#,
            r#"<a href="JaVaScRiPt:alert(1)">mixed case</a>"#,
            r#"<a href=" javascript:alert(1)">leading space</a>"#,
            r#"<a href="&#106;avascript:alert(1)">entity</a>"#,
            r#"<a href="vbscript:msgbox(1)">vb</a>"#,
            r#"<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>"#,
            r#"<p style="background:url(javascript:alert(1))">styled</p>"#,
            r#"<iframe src="https://evil.example"></iframe><p>after</p>"#,
            r#"<style>body{display:none}</style><p>styles</p>"#,
            r#"<svg onload=alert(1)><p>svg</p></svg>"#,
            r#"<p>a</p><SCRIPT SRC=//evil.example/x.js></SCRIPT>"#,
            r#"<b onmouseover="alert(1)">bold</b>"#,
            r#"<p>unclosed <script>alert(1)"#,
            r#"<p>comment<!-- <script>alert(1)</script> --></p>"#,
        ];
        for dirty in cases {
            let created = create(&w, &format!("<p>text</p> {dirty}")).await;
            let id = id_of(&created);
            assert_safe(created["content"].as_str().expect("content"));
            // What is stored (and returned by GET) is the clean version.
            let stored = entry(&w.app, &w.editor, id).await;
            let content = stored["content"].as_str().expect("content");
            assert_safe(content);
            assert!(content.contains("text"), "{dirty} -> {content}");
        }
    }
);

db_test!(
    allowed_markup_and_safe_links_are_kept,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let created = create(
        &w,
        r#"<p>QGIS <strong>4.0</strong> is <em>out</em>: <a href="https://qgis.org/download" title="dl" onclick="x()">download</a>, <a href="mailto:team@qgis.org">write</a></p><ul><li>one</li></ul><blockquote>q</blockquote><code>x</code>"#,
    )
    .await;
        let content = created["content"].as_str().expect("content");
        assert_safe(content);
        for kept in [
            "<p>",
            "<strong>4.0</strong>",
            "<em>out</em>",
            r#"href="https://qgis.org/download""#,
            "<ul><li>one</li></ul>",
            "<blockquote>q</blockquote>",
            "<code>x</code>",
            r#"href="mailto:team@qgis.org""#,
        ] {
            assert!(content.contains(kept), "`{kept}` lost in {content}");
        }
        // Links open no window back into the page that shows them.
        assert!(content.contains("noopener"), "{content}");
    }
);

db_test!(edits_are_sanitized_too, |app: common::TestApp| async move {
    let w = World::new(app).await;
    let created = create(&w, "<p>clean</p>").await;
    let id = id_of(&created);
    let edited = w
        .app
        .patch(
            &format!("/api/v1/entries/{id}"),
            Some(&w.editor),
            json!({"version": created["version"],
                   "content": r#"<p onclick="x()">changed<script>alert(1)</script><a href="javascript:x()">l</a></p>"#}),
        )
        .await
        .expect(200)
        .json();
    assert_safe(edited["content"].as_str().expect("content"));
    let stored = entry(&w.app, &w.editor, id).await;
    let content = stored["content"].as_str().expect("content");
    assert_safe(content);
    assert!(content.contains("changed"), "{content}");
});

db_test!(
    content_that_is_only_markup_is_empty,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let reply = w
            .app
            .post(
                "/api/v1/entries",
                Some(&w.editor),
                json!({"group": "alpha", "kind": "announcement", "title": "Empty",
                   "content": "<script>alert('only this')</script><img src=x onerror=y>"}),
            )
            .await;
        reply.expect_field_error("content");
        // The length limit counts the text a reader sees, not the markup.
        let text = "x".repeat(500);
        let created = create(&w, &format!("<p><strong>{text}</strong></p>")).await;
        assert!(
            created["content"]
                .as_str()
                .expect("content")
                .contains(&text)
        );
    }
);
