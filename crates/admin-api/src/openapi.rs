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
    components(schemas(crate::ErrorBody, messages::From, messages::Format)),
    modifiers(&CommonErrors),
    tags(
        (name = "health"), (name = "cluster"), (name = "topics"), (name = "messages"),
        (name = "consumer-groups"), (name = "agents"), (name = "metrics"),
    )
)]
pub struct ApiDoc;

pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Documents the errors every `/api/v1` operation can answer, whatever its handler: 400
/// for a malformed body or query string, 413 and 415 for bodies too large or not JSON,
/// 422 for values the API refuses, 503 when the metadata or object store cannot be
/// reached.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json" {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let has_body = operation.request_body.is_some();
                let responses = &mut operation.responses.responses;
                for (code, description, applies) in [
                    (
                        "400",
                        "Malformed request: the body is not JSON, or a query parameter does not parse",
                        true,
                    ),
                    (
                        "413",
                        "The body is larger than http.max_body_bytes",
                        has_body,
                    ),
                    (
                        "415",
                        "The body is not declared as application/json",
                        has_body,
                    ),
                    ("422", "A value the API refuses, with the reason", true),
                    (
                        "503",
                        "The metadata store or the object store is unavailable",
                        true,
                    ),
                ] {
                    if applies {
                        responses
                            .entry(code.to_owned())
                            .or_insert_with(|| error(description).into());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    /// Client generators (the console's openapi-typescript among them) refuse a document
    /// whose operation ids repeat.
    #[test]
    fn operation_ids_are_unique() {
        let doc = super::ApiDoc::openapi();
        let mut seen = std::collections::BTreeSet::new();
        for item in doc.paths.paths.values() {
            for operation in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let id = operation.operation_id.clone().expect("operation id");
                assert!(seen.insert(id.clone()), "operation id {id} repeats");
            }
        }
        assert!(seen.len() >= 20);
    }
}
