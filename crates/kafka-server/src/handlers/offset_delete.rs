//! OffsetDelete: drop a group's committed offsets for topics it no longer consumes.

use streamhouse_kafka_proto::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use streamhouse_kafka_proto::messages::{OffsetDeleteRequest, OffsetDeleteResponse};
use streamhouse_types::PartitionId;

use crate::error::{group_code, group_error_code};
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: OffsetDeleteRequest,
) -> OffsetDeleteResponse {
    let partitions: Vec<(String, PartitionId)> = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (t.name.0.to_string(), p.partition_index))
        })
        .collect();
    let results = match context
        .groups
        .delete_offsets(&request.group_id.0, &partitions)
        .await
    {
        Ok(results) => results,
        Err(error) => {
            return OffsetDeleteResponse::default()
                .with_error_code(group_error_code(&error).code());
        }
    };
    let mut codes = results.iter().map(group_code);
    OffsetDeleteResponse::default().with_topics(
        request
            .topics
            .into_iter()
            .map(|topic| {
                let partitions = topic
                    .partitions
                    .iter()
                    .map(|p| {
                        OffsetDeleteResponsePartition::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(codes.next().unwrap_or_default())
                    })
                    .collect();
                OffsetDeleteResponseTopic::default()
                    .with_name(topic.name)
                    .with_partitions(partitions)
            })
            .collect(),
    )
}
