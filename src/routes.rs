//! The documented paths, read from the spec once: which template a request
//! path belongs to (a bounded label for metrics) and which methods it answers
//! (the `Allow` header of a 405, which RFC 9110 requires).

use std::sync::Arc;

use poem::http::HeaderValue;

/// One documented path: `/api/v1/entries/{id}`.
struct Route {
    segments: Vec<String>,
    template: Arc<str>,
    allow: HeaderValue,
}

pub struct Routes(Vec<Route>);

impl Routes {
    pub fn from_spec(spec: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().cloned().unwrap_or_default();
        let mut routes: Vec<Route> = paths
            .iter()
            .filter_map(|(path, operations)| {
                let mut methods: Vec<String> = operations
                    .as_object()?
                    .keys()
                    .map(|method| method.to_uppercase())
                    .collect();
                if methods.iter().any(|method| method == "GET") {
                    methods.push("HEAD".into());
                }
                Some(Route {
                    segments: path.split('/').map(str::to_string).collect(),
                    template: path.as_str().into(),
                    allow: HeaderValue::from_str(&methods.join(", ")).ok()?,
                })
            })
            .collect();
        // Literal paths before templated ones of the same shape.
        routes.sort_by_key(|route| route.segments.iter().filter(|s| s.starts_with('{')).count());
        Self(routes)
    }

    fn find(&self, path: &str) -> Option<&Route> {
        self.0.iter().find(|route| {
            let mut got = path.split('/');
            route.segments.iter().all(|want| {
                got.next()
                    .is_some_and(|got| want.starts_with('{') || want == got)
            }) && got.next().is_none()
        })
    }

    /// The `Allow` value of the documented path `path` falls under.
    pub fn allow(&self, path: &str) -> Option<&HeaderValue> {
        self.find(path).map(|route| &route.allow)
    }

    /// The documented path `path` falls under, for labels: `/api/v1/entries/{id}`.
    pub fn template(&self, path: &str) -> Option<&Arc<str>> {
        self.find(path).map(|route| &route.template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_their_template() {
        let routes = Routes::from_spec(&crate::openapi().spec());
        assert_eq!(
            routes.template("/api/v1/entries/12").map(|t| &**t),
            Some("/api/v1/entries/{id}")
        );
        assert_eq!(
            routes.template("/feed.rss").map(|t| &**t),
            Some("/feed.rss")
        );
        assert_eq!(
            routes.template("/groups/qgis-de/feed.ics").map(|t| &**t),
            Some("/groups/{slug}/feed.ics")
        );
        assert_eq!(routes.template("/nowhere/at/all"), None);
        assert_eq!(
            routes.allow("/api/v1/me").and_then(|v| v.to_str().ok()),
            Some("GET, HEAD")
        );
    }
}
