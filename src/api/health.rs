use poem::web::Data;
use poem_openapi::{OpenApi, payload::PlainText};

use super::ApiTags;
use crate::AppState;
use crate::error::AppResult;

pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// The process is up.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> PlainText<&'static str> {
        PlainText("ok")
    }

    /// The database answers.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self, state: Data<&AppState>) -> AppResult<PlainText<&'static str>> {
        state.services.check_database().await?;
        Ok(PlainText("ready"))
    }
}
