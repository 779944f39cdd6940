//! DeleteRecords: move a partition's log start offset forward (-1 means the high watermark).

use streamhouse_kafka_proto::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use streamhouse_kafka_proto::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use streamhouse_types::TopicPartition;

use crate::error::to_error_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: DeleteRecordsRequest,
) -> DeleteRecordsResponse {
    let mut topics = Vec::with_capacity(request.topics.len());
    for topic in request.topics {
        let name = topic.name.0.to_string();
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in topic.partitions {
            let tp = TopicPartition::new(name.as_str(), p.partition_index);
            let result = DeleteRecordsPartitionResult::default()
                .with_partition_index(p.partition_index)
                .with_low_watermark(-1);
            let offset = if p.offset == -1 {
                context.engine.offsets(&tp).await.map(|(_, hw)| hw)
            } else {
                Ok(p.offset)
            };
            let outcome = match offset {
                Ok(offset) => context.engine.delete_records(&tp, offset).await,
                Err(error) => Err(error),
            };
            partitions.push(match outcome {
                Ok(low_watermark) => result.with_low_watermark(low_watermark),
                Err(error) => result.with_error_code(to_error_code(&error).code()),
            });
        }
        topics.push(
            DeleteRecordsTopicResult::default()
                .with_name(topic.name)
                .with_partitions(partitions),
        );
    }
    DeleteRecordsResponse::default().with_topics(topics)
}
