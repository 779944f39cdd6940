//! OffsetCommit: store a group's consumed positions, checked against its generation.

use streamhouse_groups::OffsetCommit;
use streamhouse_kafka_proto::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use streamhouse_kafka_proto::messages::{OffsetCommitRequest, OffsetCommitResponse};

use crate::error::{group_code, group_error_code};
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: OffsetCommitRequest,
) -> OffsetCommitResponse {
    let offsets: Vec<OffsetCommit> = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|p| OffsetCommit {
                topic: topic.name.0.to_string(),
                partition: p.partition_index,
                offset: p.committed_offset,
                leader_epoch: p.committed_leader_epoch,
                metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
            })
        })
        .collect();
    let result = context
        .groups
        .commit_offsets(
            &request.group_id.0,
            request.generation_id_or_member_epoch,
            &request.member_id,
            request.group_instance_id.as_deref(),
            offsets,
        )
        .await;
    // One error code per partition, in request order: the group's if the whole commit
    // was refused, else the partition's own.
    let mut codes = match &result {
        Ok(results) => results
            .iter()
            .map(group_code)
            .collect::<Vec<_>>()
            .into_iter(),
        Err(error) => {
            let code = group_error_code(error).code();
            let n = request.topics.iter().map(|t| t.partitions.len()).sum();
            vec![code; n].into_iter()
        }
    };
    OffsetCommitResponse::default().with_topics(
        request
            .topics
            .into_iter()
            .map(|topic| {
                let partitions = topic
                    .partitions
                    .iter()
                    .map(|p| {
                        OffsetCommitResponsePartition::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(codes.next().unwrap_or_default())
                    })
                    .collect();
                OffsetCommitResponseTopic::default()
                    .with_name(topic.name)
                    .with_partitions(partitions)
            })
            .collect(),
    )
}
