use poem::web::Data;
use poem_openapi::{OpenApi, payload::PlainText};

use std::sync::Arc;

use super::ApiTags;
use crate::AppState;
use crate::error::AppResult;
use crate::metrics::Metrics;

pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// The process is up.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> PlainText<&'static str> {
        PlainText("ok")
    }

    /// Prometheus metrics: requests and latency by route template and status,
    /// the moderation queue, the feed snapshot (age, rebuilds, live entries),
    /// login failures, rate-limited requests, waiting password checks and
    /// connections (open, turned away at the limit, closed by a timeout).
    #[oai(path = "/metrics", method = "get")]
    async fn metrics(
        &self,
        state: Data<&AppState>,
        metrics: Data<&Arc<Metrics>>,
    ) -> AppResult<PlainText<String>> {
        Ok(PlainText(metrics.render(&state.services).await?))
    }

    /// The database answers.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self, state: Data<&AppState>) -> AppResult<PlainText<&'static str>> {
        state.services.check_database().await?;
        Ok(PlainText("ready"))
    }
}
