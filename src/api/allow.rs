//! The methods each documented path answers, read from the spec, for the
//! `Allow` header of a 405 (RFC 9110 requires it).

use poem::http::HeaderValue;

/// Per documented path: its segments and the methods it answers.
pub struct AllowedMethods(Vec<(Vec<String>, HeaderValue)>);

impl AllowedMethods {
    pub fn from_spec(spec: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().cloned().unwrap_or_default();
        Self(
            paths
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
                    let segments = path.split('/').map(str::to_string).collect();
                    Some((segments, HeaderValue::from_str(&methods.join(", ")).ok()?))
                })
                .collect(),
        )
    }

    pub fn for_path(&self, path: &str) -> Option<&HeaderValue> {
        let segments: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(pattern, methods)| {
            let matches = pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(want, got)| want.starts_with('{') || want == got);
            matches.then_some(methods)
        })
    }
}
