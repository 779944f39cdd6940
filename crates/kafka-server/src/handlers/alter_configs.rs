//! AlterConfigs (the legacy, replace-everything form): configs not named go back to their
//! defaults.

use streamhouse_kafka_proto::messages::alter_configs_response::AlterConfigsResourceResponse;
use streamhouse_kafka_proto::messages::{AlterConfigsRequest, AlterConfigsResponse};
use streamhouse_kafka_proto::{ErrorCode, StrBytes};
use streamhouse_metadata::TopicConfig;

use crate::error::to_error_code;
use crate::listener::ServerContext;
use crate::topic_config::RESOURCE_TOPIC;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: AlterConfigsRequest,
) -> AlterConfigsResponse {
    let mut responses = Vec::with_capacity(request.resources.len());
    for resource in request.resources {
        let response = AlterConfigsResourceResponse::default()
            .with_resource_type(resource.resource_type)
            .with_resource_name(resource.resource_name.clone());
        let outcome: Result<(), (ErrorCode, String)> = async {
            if resource.resource_type != RESOURCE_TOPIC {
                return Err((
                    ErrorCode::InvalidRequest,
                    "only topic configs can be altered".into(),
                ));
            }
            let mut config = TopicConfig::default();
            for entry in &resource.configs {
                config
                    .set(entry.name.as_str(), entry.value.as_deref())
                    .map_err(|m| (ErrorCode::InvalidConfig, m))?;
            }
            streamhouse_engine::validate_topic_config(&config)
                .map_err(|e| (to_error_code(&e), e.to_string()))?;
            let name = resource.resource_name.as_str();
            if request.validate_only {
                return context
                    .engine
                    .topic(name)
                    .await
                    .map(|_| ())
                    .map_err(|e| (to_error_code(&e), e.to_string()));
            }
            context
                .engine
                .update_topic_config(name, config)
                .await
                .map_err(|e| (to_error_code(&e), e.to_string()))
        }
        .await;
        responses.push(match outcome {
            Ok(()) => response,
            Err((code, message)) => response
                .with_error_code(code.code())
                .with_error_message(Some(StrBytes::from_string(message))),
        });
    }
    AlterConfigsResponse::default().with_responses(responses)
}
