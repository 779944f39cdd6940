//! Produce: every partition's batches are accepted in order; each answer waits
//! until its batches are durable (acks=1 and acks=all both mean "in object storage and
//! committed"), or until the request timeout.

use std::time::Duration;

use futures::future::join_all;
use streamhouse_engine::Submitted;
use streamhouse_kafka_proto::ErrorCode;
use streamhouse_kafka_proto::StrBytes;
use streamhouse_kafka_proto::messages::produce_response::{
    PartitionProduceResponse, TopicProduceResponse,
};
use streamhouse_kafka_proto::messages::{ProduceRequest, ProduceResponse, TopicName};
use streamhouse_types::TopicPartition;

use crate::error::{produce_error_name, to_error_code};
use crate::listener::ServerContext;

/// Accepts every partition's batches in request order (offsets are assigned now), and
/// returns the future that waits for them to become durable and builds the response. A
/// connection submits pipelined produce requests one after another, then lets their
/// durability waits overlap.
pub(crate) async fn submit(
    context: &ServerContext,
    _version: i16,
    request: ProduceRequest,
) -> impl Future<Output = ProduceResponse> + Send + '_ {
    let refuse = if request.transactional_id.is_some() {
        // Transactions come later; refuse rather than pretend.
        Some(ErrorCode::TransactionalIdAuthorizationFailed)
    } else if !matches!(request.acks, -1..=1) {
        Some(ErrorCode::InvalidRequiredAcks)
    } else {
        None
    };
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(request.timeout_ms.max(0) as u64);
    let mut topics = Vec::with_capacity(request.topic_data.len());
    for topic in request.topic_data {
        let name = topic.name.0.to_string();
        let mut partitions = Vec::with_capacity(topic.partition_data.len());
        for data in topic.partition_data {
            let tp = TopicPartition::new(name.as_str(), data.index);
            let submitted = match (refuse, data.records) {
                (Some(code), _) => Err(Refused::Code(code)),
                (None, None) => Err(Refused::Code(ErrorCode::CorruptMessage)),
                (None, Some(records)) => context
                    .engine
                    .submit(&tp, records)
                    .await
                    .map_err(Refused::Engine),
            };
            partitions.push((tp, submitted));
        }
        // An owned name: the request's is a slice of the request frame, and the answer
        // waits for durability, so it would keep the whole frame (up to a megabyte of
        // records, already copied into the engine) alive meanwhile.
        let name = TopicName(StrBytes::from_string(name));
        topics.push((name, partitions));
    }
    async move {
        let topics = topics.into_iter().map(|(name, partitions)| async move {
            let partitions = partitions
                .into_iter()
                .map(|(tp, submitted)| finish(context, tp, submitted, deadline));
            TopicProduceResponse::default()
                .with_name(name)
                .with_partition_responses(join_all(partitions).await)
        });
        ProduceResponse::default().with_responses(join_all(topics).await)
    }
}

enum Refused {
    Code(ErrorCode),
    Engine(streamhouse_engine::Error),
}

async fn finish(
    context: &ServerContext,
    tp: TopicPartition,
    submitted: Result<Submitted, Refused>,
    deadline: tokio::time::Instant,
) -> PartitionProduceResponse {
    let response = PartitionProduceResponse::default()
        .with_index(tp.partition)
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1);
    // Refused before the topic was looked up, or timed out after it was found.
    let refused = |code: ErrorCode, topic: Option<&str>| {
        context
            .engine
            .metrics()
            .producer
            .error(topic, produce_error_name(code));
        response.clone().with_error_code(code.code())
    };
    let result = match submitted {
        Err(Refused::Code(code)) => return refused(code, None),
        Err(Refused::Engine(error)) => Err(error),
        Ok(submitted) => match tokio::time::timeout_at(deadline, submitted.durable()).await {
            Err(_elapsed) => return refused(ErrorCode::RequestTimedOut, Some(&tp.topic)),
            Ok(result) => result,
        },
    };
    match result {
        Err(error) => {
            tracing::debug!(%tp, %error, "produce refused");
            let code = to_error_code(&error);
            let known_topic = !matches!(
                error,
                streamhouse_engine::Error::UnknownTopic(_)
                    | streamhouse_engine::Error::UnknownPartition(_)
                    | streamhouse_engine::Error::InvalidTopic(_)
            );
            context
                .engine
                .metrics()
                .producer
                .error(known_topic.then_some(&*tp.topic), produce_error_name(code));
            response
                .with_error_code(code.code())
                .with_error_message(Some(StrBytes::from_string(error.to_string())))
        }
        Ok(outcome) => {
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
    }
}
