//! IncrementalAlterConfigs: SET and DELETE (back to the default) of topic configs.

use streamhouse_kafka_proto::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use streamhouse_kafka_proto::messages::{
    IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse,
};
use streamhouse_kafka_proto::{ErrorCode, StrBytes};

use crate::error::to_error_code;
use crate::listener::ServerContext;
use crate::topic_config::RESOURCE_TOPIC;

const SET: i8 = 0;
const DELETE: i8 = 1;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let mut responses = Vec::with_capacity(request.resources.len());
    for resource in request.resources {
        let response = AlterConfigsResourceResponse::default()
            .with_resource_type(resource.resource_type)
            .with_resource_name(resource.resource_name.clone());
        let outcome = alter(context, resource, request.validate_only).await;
        responses.push(match outcome {
            Ok(()) => response,
            Err((code, message)) => response
                .with_error_code(code.code())
                .with_error_message(Some(StrBytes::from_string(message))),
        });
    }
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}

async fn alter(
    context: &ServerContext,
    resource: streamhouse_kafka_proto::messages::incremental_alter_configs_request::AlterConfigsResource,
    validate_only: bool,
) -> Result<(), (ErrorCode, String)> {
    if resource.resource_type != RESOURCE_TOPIC {
        return Err((
            ErrorCode::InvalidRequest,
            "only topic configs can be altered; broker configs are read-only".into(),
        ));
    }
    let name = resource.resource_name.as_str();
    let topic = context
        .engine
        .topic(name)
        .await
        .map_err(|e| (to_error_code(&e), e.to_string()))?;
    let mut config = topic.config;
    for entry in &resource.configs {
        let value = match entry.config_operation {
            SET => entry.value.as_deref(),
            DELETE => None,
            op => {
                return Err((
                    ErrorCode::InvalidConfig,
                    format!("config operation {op} (APPEND/SUBTRACT) is not supported"),
                ));
            }
        };
        config
            .set(entry.name.as_str(), value)
            .map_err(|m| (ErrorCode::InvalidConfig, m))?;
    }
    streamhouse_engine::validate_topic_config(&config)
        .map_err(|e| (to_error_code(&e), e.to_string()))?;
    if validate_only {
        return Ok(());
    }
    context
        .engine
        .update_topic_config(name, config)
        .await
        .map_err(|e| (to_error_code(&e), e.to_string()))
}
