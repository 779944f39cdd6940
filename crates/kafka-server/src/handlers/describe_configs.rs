//! DescribeConfigs: a topic's honoured configs (marking defaults), or a broker's
//! read-only settings.

use streamhouse_kafka_proto::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use streamhouse_kafka_proto::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use streamhouse_kafka_proto::{ErrorCode, StrBytes};
use streamhouse_metadata::TopicConfig;

use crate::cluster::node_id;
use crate::error::to_error_code;
use crate::listener::ServerContext;
use crate::topic_config::{
    self, RESOURCE_BROKER, RESOURCE_TOPIC, SOURCE_DEFAULT, SOURCE_STATIC_BROKER,
};

/// `(name, value, config source, is default)`.
type Entry = (String, String, i8, bool);

pub(crate) async fn handle(
    context: &ServerContext,
    version: i16,
    request: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let mut results = Vec::with_capacity(request.resources.len());
    for resource in request.resources {
        let result = DescribeConfigsResult::default()
            .with_resource_type(resource.resource_type)
            .with_resource_name(resource.resource_name.clone());
        let entries: Result<Vec<Entry>, (ErrorCode, String)> = match resource.resource_type {
            RESOURCE_TOPIC => match context.engine.topic(resource.resource_name.as_str()).await {
                Ok(topic) => Ok(topic_config::describe_with_source(&topic.config)
                    .into_iter()
                    .map(|(name, value, source)| (name.to_owned(), value, source, true))
                    .collect()),
                Err(error) => Err((to_error_code(&error), error.to_string())),
            },
            RESOURCE_BROKER => {
                let own = node_id(context.engine.agent_id()).to_string();
                if resource.resource_name.as_str() == own || resource.resource_name.is_empty() {
                    Ok(broker_configs(context))
                } else {
                    Err((
                        ErrorCode::InvalidRequest,
                        format!("this agent is broker {own}"),
                    ))
                }
            }
            other => Err((
                ErrorCode::InvalidRequest,
                format!("config resource type {other} is not supported"),
            )),
        };
        results.push(match entries {
            Ok(entries) => {
                let wanted = resource.configuration_keys.as_ref();
                result.with_configs(
                    entries
                        .into_iter()
                        .filter(|(name, ..)| {
                            wanted.is_none_or(|keys| keys.iter().any(|k| k.as_str() == name))
                        })
                        .map(|(name, value, source, is_default)| {
                            // Fields exist from different versions on: is_default only in v0,
                            // config_source from v1, config_type from v3.
                            let entry = DescribeConfigsResourceResult::default()
                                .with_config_type(if version >= 3 {
                                    topic_config::config_type(&name)
                                } else {
                                    0
                                })
                                .with_name(StrBytes::from_string(name))
                                .with_value(Some(StrBytes::from_string(value)))
                                .with_read_only(source == SOURCE_STATIC_BROKER);
                            if version == 0 {
                                entry.with_is_default(is_default && source == SOURCE_DEFAULT)
                            } else {
                                entry.with_config_source(source)
                            }
                        })
                        .collect(),
                )
            }
            Err((code, message)) => result
                .with_error_code(code.code())
                .with_error_message(Some(StrBytes::from_string(message))),
        });
    }
    DescribeConfigsResponse::default().with_results(results)
}

/// The broker settings clients commonly ask about, all read-only here.
fn broker_configs(context: &ServerContext) -> Vec<Entry> {
    let defaults = TopicConfig::default();
    [
        (
            "auto.create.topics.enable",
            context.config.auto_create_topics.to_string(),
        ),
        ("num.partitions", context.default_partitions.to_string()),
        (
            "socket.request.max.bytes",
            context.config.max_request_bytes.as_u64().to_string(),
        ),
        (
            "connections.max.idle.ms",
            context.config.idle_timeout.as_millis().to_string(),
        ),
        ("log.retention.ms", defaults.retention_ms.to_string()),
        ("message.max.bytes", defaults.max_message_bytes.to_string()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value, SOURCE_STATIC_BROKER, false))
    .collect()
}
