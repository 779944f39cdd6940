//! Produce: every partition of the request is appended concurrently; each answer waits
//! until its batches are durable (acks=1 and acks=all both mean "in object storage and
//! committed"), or until the request timeout.

use std::time::Duration;

use futures::future::join_all;
use streamhouse_kafka_proto::ErrorCode;
use streamhouse_kafka_proto::messages::produce_response::{
    PartitionProduceResponse, TopicProduceResponse,
};
use streamhouse_kafka_proto::messages::{ProduceRequest, ProduceResponse};
use streamhouse_types::TopicPartition;

use crate::error::to_error_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: ProduceRequest,
) -> ProduceResponse {
    let refuse = if request.transactional_id.is_some() {
        // Transactions come later; refuse rather than pretend.
        Some(ErrorCode::TransactionalIdAuthorizationFailed)
    } else if !matches!(request.acks, -1..=1) {
        Some(ErrorCode::InvalidRequiredAcks)
    } else {
        None
    };
    let timeout = Duration::from_millis(request.timeout_ms.max(0) as u64);
    let topics = request.topic_data.into_iter().map(|topic| async move {
        let name = topic.name.0.to_string();
        let partitions = topic.partition_data.into_iter().map(|data| {
            let tp = TopicPartition::new(name.as_str(), data.index);
            async move {
                let response = PartitionProduceResponse::default()
                    .with_index(data.index)
                    .with_base_offset(-1)
                    .with_log_append_time_ms(-1)
                    .with_log_start_offset(-1);
                if let Some(code) = refuse {
                    return response.with_error_code(code.code());
                }
                let Some(records) = data.records else {
                    return response.with_error_code(ErrorCode::CorruptMessage.code());
                };
                match tokio::time::timeout(timeout, context.engine.append(&tp, records)).await {
                    Err(_elapsed) => response.with_error_code(ErrorCode::RequestTimedOut.code()),
                    Ok(Ok(outcome)) => {
                        let log_start = context
                            .engine
                            .offsets(&tp)
                            .await
                            .map_or(-1, |(start, _)| start);
                        response
                            .with_base_offset(outcome.base_offset)
                            .with_log_append_time_ms(outcome.log_append_time.unwrap_or(-1))
                            .with_log_start_offset(log_start)
                    }
                    Ok(Err(error)) => {
                        tracing::debug!(%tp, %error, "produce refused");
                        response
                            .with_error_code(to_error_code(&error).code())
                            .with_error_message(Some(
                                streamhouse_kafka_proto::StrBytes::from_string(error.to_string()),
                            ))
                    }
                }
            }
        });
        TopicProduceResponse::default()
            .with_name(topic.name)
            .with_partition_responses(join_all(partitions).await)
    });
    ProduceResponse::default().with_responses(join_all(topics).await)
}
