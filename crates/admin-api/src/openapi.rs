//! The OpenAPI 3 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

use crate::routes::{agents, cluster, groups, health, messages, metrics, topics, ws};

/// The API description served at `/api/v1/openapi.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "StreamHouse", description = "The StreamHouse admin API."),
    paths(
        health::health, health::live, health::ready,
        cluster::overview,
        topics::list, topics::create, topics::detail, topics::partitions,
        topics::alter_configs, topics::delete,
        messages::browse, messages::produce,
        groups::list, groups::detail, groups::lag, groups::reset, groups::commit,
        groups::delete,
        agents::list, agents::detail,
        metrics::prometheus, metrics::history, ws::upgrade,
    ),
    components(schemas(crate::ErrorBody)),
    tags(
        (name = "health"), (name = "cluster"), (name = "topics"), (name = "messages"),
        (name = "consumer-groups"), (name = "agents"), (name = "metrics"),
    )
)]
pub struct ApiDoc;

pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
