//! OffsetFetch: a group's committed offsets; v8+ asks for several groups at once.

use streamhouse_groups::GroupError;
use streamhouse_kafka_proto::StrBytes;
use streamhouse_kafka_proto::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use streamhouse_kafka_proto::messages::{GroupId, OffsetFetchRequest, OffsetFetchResponse};
use streamhouse_metadata::GroupOffset;
use streamhouse_types::PartitionId;

use crate::error::group_error_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    version: i16,
    request: OffsetFetchRequest,
) -> OffsetFetchResponse {
    if version >= 8 {
        let mut groups = Vec::with_capacity(request.groups.len());
        for group in request.groups {
            let wanted = group.topics.map(|topics| {
                topics
                    .into_iter()
                    .map(|t| (t.name.0.to_string(), t.partition_indexes))
                    .collect::<Vec<_>>()
            });
            let response =
                OffsetFetchResponseGroup::default().with_group_id(group.group_id.clone());
            groups.push(match fetch(context, &group.group_id, wanted).await {
                Ok(offsets) => response.with_topics(
                    by_topic(offsets)
                        .into_iter()
                        .map(|(name, offsets)| {
                            OffsetFetchResponseTopics::default()
                                .with_name(StrBytes::from_string(name).into())
                                .with_partitions(
                                    offsets
                                        .into_iter()
                                        .map(|o| {
                                            OffsetFetchResponsePartitions::default()
                                                .with_partition_index(o.partition)
                                                .with_committed_offset(o.offset)
                                                .with_committed_leader_epoch(o.leader_epoch)
                                                .with_metadata(Some(metadata(o.metadata)))
                                        })
                                        .collect(),
                                )
                        })
                        .collect(),
                ),
                Err(error) => response.with_error_code(group_error_code(&error).code()),
            });
        }
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let wanted = request.topics.map(|topics| {
        topics
            .into_iter()
            .map(|t| (t.name.0.to_string(), t.partition_indexes))
            .collect::<Vec<_>>()
    });
    let result = fetch(context, &request.group_id, wanted.clone()).await;
    let (offsets, error) = match result {
        Ok(offsets) => (offsets, 0),
        // v0-1 have no group-level error: every asked-for partition carries it.
        Err(error) if version < 2 => (
            unknown_offsets(wanted.unwrap_or_default()),
            group_error_code(&error).code(),
        ),
        Err(error) => {
            return OffsetFetchResponse::default().with_error_code(group_error_code(&error).code());
        }
    };
    let partition_error = if version < 2 { error } else { 0 };
    OffsetFetchResponse::default().with_topics(
        by_topic(offsets)
            .into_iter()
            .map(|(name, offsets)| {
                OffsetFetchResponseTopic::default()
                    .with_name(StrBytes::from_string(name).into())
                    .with_partitions(
                        offsets
                            .into_iter()
                            .map(|o| {
                                OffsetFetchResponsePartition::default()
                                    .with_partition_index(o.partition)
                                    .with_committed_offset(o.offset)
                                    .with_committed_leader_epoch(o.leader_epoch)
                                    .with_metadata(Some(metadata(o.metadata)))
                                    .with_error_code(partition_error)
                            })
                            .collect(),
                    )
            })
            .collect(),
    )
}

async fn fetch(
    context: &ServerContext,
    group: &GroupId,
    wanted: Option<Vec<(String, Vec<PartitionId>)>>,
) -> Result<Vec<GroupOffset>, GroupError> {
    let partitions: Option<Vec<(String, PartitionId)>> = wanted.map(|topics| {
        topics
            .into_iter()
            .flat_map(|(name, partitions)| partitions.into_iter().map(move |p| (name.clone(), p)))
            .collect()
    });
    context
        .groups
        .fetch_offsets(&group.0, partitions.as_deref())
        .await
}

fn unknown_offsets(wanted: Vec<(String, Vec<PartitionId>)>) -> Vec<GroupOffset> {
    wanted
        .into_iter()
        .flat_map(|(topic, partitions)| {
            partitions.into_iter().map(move |partition| GroupOffset {
                topic: topic.clone(),
                partition,
                offset: -1,
                leader_epoch: -1,
                metadata: None,
                commit_timestamp_ms: -1,
            })
        })
        .collect()
}

/// Offsets grouped by topic, keeping the order topics first appear in.
fn by_topic(offsets: Vec<GroupOffset>) -> Vec<(String, Vec<GroupOffset>)> {
    let mut out: Vec<(String, Vec<GroupOffset>)> = Vec::new();
    for offset in offsets {
        match out.iter_mut().find(|(name, _)| *name == offset.topic) {
            Some((_, list)) => list.push(offset),
            None => out.push((offset.topic.clone(), vec![offset])),
        }
    }
    out
}

fn metadata(metadata: Option<String>) -> StrBytes {
    StrBytes::from_string(metadata.unwrap_or_default())
}
