//! CreateTopics, with validate-only, configs, and replication factors accepted (object
//! storage replicates; every partition has one leader).

use streamhouse_kafka_proto::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use streamhouse_kafka_proto::messages::{CreateTopicsRequest, CreateTopicsResponse};
use streamhouse_kafka_proto::{ErrorCode, StrBytes};
use streamhouse_metadata::TopicConfig;

use crate::error::to_error_code;
use crate::listener::ServerContext;
use crate::topic_config;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: CreateTopicsRequest,
) -> CreateTopicsResponse {
    let mut results = Vec::with_capacity(request.topics.len());
    for topic in request.topics {
        let name = topic.name.0.to_string();
        let result = CreatableTopicResult::default().with_name(topic.name.clone());
        let fail = |code: ErrorCode, message: String| {
            result
                .clone()
                .with_error_code(code.code())
                .with_error_message(Some(StrBytes::from_string(message)))
        };
        let partitions = match (topic.num_partitions, topic.assignments.len()) {
            (-1, 0) => context.default_partitions,
            (-1, n) => n as i32,
            (n, 0) => n,
            _ => {
                results.push(fail(
                    ErrorCode::InvalidRequest,
                    "give either num_partitions or assignments".into(),
                ));
                continue;
            }
        };
        if topic.replication_factor == 0 || topic.replication_factor < -1 {
            results.push(fail(
                ErrorCode::InvalidReplicationFactor,
                format!(
                    "replication factor {} is not -1 or at least 1",
                    topic.replication_factor
                ),
            ));
            continue;
        }
        let mut config = TopicConfig::default();
        let mut bad_config = None;
        for entry in &topic.configs {
            if let Err(message) = config.set(entry.name.as_str(), entry.value.as_deref()) {
                bad_config = Some(message);
                break;
            }
        }
        if let Some(message) = bad_config {
            results.push(fail(ErrorCode::InvalidConfig, message));
            continue;
        }
        let outcome = if request.validate_only {
            validate(context, &name, partitions, &config).await
        } else {
            context
                .engine
                .create_topic(&name, partitions, config.clone())
                .await
                .map(|t| t.id)
        };
        results.push(match outcome {
            Ok(id) => result
                .with_topic_id(id)
                .with_num_partitions(partitions)
                .with_replication_factor(if topic.replication_factor == -1 {
                    1
                } else {
                    topic.replication_factor
                })
                .with_configs(Some(
                    topic_config::describe_with_source(&config)
                        .into_iter()
                        .map(|(name, value, source)| {
                            CreatableTopicConfigs::default()
                                .with_name(StrBytes::from_static_str(name))
                                .with_value(Some(StrBytes::from_string(value)))
                                .with_config_source(source)
                        })
                        .collect(),
                )),
            Err(error) => fail(to_error_code(&error), error.to_string()),
        });
    }
    CreateTopicsResponse::default().with_topics(results)
}

/// The checks creation would make, without creating.
async fn validate(
    context: &ServerContext,
    name: &str,
    partitions: i32,
    config: &TopicConfig,
) -> Result<uuid::Uuid, streamhouse_engine::Error> {
    streamhouse_engine::validate_new_topic(name, partitions, config)?;
    match context.engine.topic(name).await {
        Ok(_) => Err(streamhouse_engine::Error::TopicExists(name.to_owned())),
        Err(streamhouse_engine::Error::UnknownTopic(_)) => Ok(uuid::Uuid::nil()),
        Err(error) => Err(error),
    }
}
