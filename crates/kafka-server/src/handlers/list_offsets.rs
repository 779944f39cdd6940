//! ListOffsets: earliest (-2), latest (-1), the record with the largest timestamp (-3),
//! or the first record at or after a timestamp.

use streamhouse_kafka_proto::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use streamhouse_kafka_proto::messages::{ListOffsetsRequest, ListOffsetsResponse};
use streamhouse_types::TopicPartition;

use crate::error::to_error_code;
use crate::listener::ServerContext;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: ListOffsetsRequest,
) -> ListOffsetsResponse {
    let mut topics = Vec::with_capacity(request.topics.len());
    for topic in request.topics {
        let name = topic.name.0.to_string();
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in topic.partitions {
            let tp = TopicPartition::new(name.as_str(), p.partition_index);
            let response = ListOffsetsPartitionResponse::default()
                .with_partition_index(p.partition_index)
                .with_timestamp(-1)
                .with_offset(-1);
            let result = match p.timestamp {
                LATEST => context.engine.offsets(&tp).await.map(|(_, hw)| (hw, -1)),
                EARLIEST => context
                    .engine
                    .offsets(&tp)
                    .await
                    .map(|(start, _)| (start, -1)),
                MAX_TIMESTAMP => context
                    .engine
                    .max_timestamp(&tp)
                    .await
                    .map(|found| found.unwrap_or((-1, -1))),
                ts => context
                    .engine
                    .offset_for_timestamp(&tp, ts)
                    .await
                    .map(|found| found.unwrap_or((-1, -1))),
            };
            partitions.push(match result {
                Ok((offset, timestamp)) => response.with_offset(offset).with_timestamp(timestamp),
                Err(error) => response.with_error_code(to_error_code(&error).code()),
            });
        }
        topics.push(
            ListOffsetsTopicResponse::default()
                .with_name(topic.name)
                .with_partitions(partitions),
        );
    }
    ListOffsetsResponse::default().with_topics(topics)
}
