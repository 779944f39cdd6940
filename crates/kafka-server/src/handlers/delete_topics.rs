//! DeleteTopics, by name.

use streamhouse_kafka_proto::messages::delete_topics_response::DeletableTopicResult;
use streamhouse_kafka_proto::messages::{DeleteTopicsRequest, DeleteTopicsResponse};

use streamhouse_kafka_proto::StrBytes;

use crate::error::to_error_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: DeleteTopicsRequest,
) -> DeleteTopicsResponse {
    let mut results = Vec::with_capacity(request.topic_names.len());
    for name in request.topic_names {
        let result = match context.engine.delete_topic(name.0.as_str()).await {
            Ok(topic) => DeletableTopicResult::default()
                .with_name(Some(name))
                .with_topic_id(topic.id),
            Err(error) => DeletableTopicResult::default()
                .with_name(Some(name))
                .with_error_code(to_error_code(&error).code())
                .with_error_message(Some(StrBytes::from_string(error.to_string()))),
        };
        results.push(result);
    }
    DeleteTopicsResponse::default().with_responses(results)
}
