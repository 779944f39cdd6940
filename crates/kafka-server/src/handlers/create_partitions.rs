//! CreatePartitions: grow a topic (partitions are never removed, as in Kafka).

use streamhouse_kafka_proto::messages::create_partitions_response::CreatePartitionsTopicResult;
use streamhouse_kafka_proto::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use streamhouse_kafka_proto::{ErrorCode, StrBytes};

use crate::error::to_error_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let mut results = Vec::with_capacity(request.topics.len());
    for topic in request.topics {
        let name = topic.name.0.to_string();
        let result = CreatePartitionsTopicResult::default().with_name(topic.name);
        let outcome = if request.validate_only {
            match context.engine.topic(&name).await {
                Ok(current) if topic.count > current.partition_count && topic.count <= 100_000 => {
                    Ok(())
                }
                Ok(current) => Err((
                    ErrorCode::InvalidPartitions,
                    format!(
                        "topic has {} partitions; {} is not more",
                        current.partition_count, topic.count
                    ),
                )),
                Err(error) => Err((to_error_code(&error), error.to_string())),
            }
        } else {
            context
                .engine
                .add_partitions(&name, topic.count)
                .await
                .map(|_| ())
                .map_err(|error| (to_error_code(&error), error.to_string()))
        };
        results.push(match outcome {
            Ok(()) => result,
            Err((code, message)) => result
                .with_error_code(code.code())
                .with_error_message(Some(StrBytes::from_string(message))),
        });
    }
    CreatePartitionsResponse::default().with_results(results)
}
