//! Consumer groups: list with lag, detail with members and per-partition lag, reset or
//! commit offsets (only while the group has no active members, as Kafka), delete.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use streamhouse_groups::{OffsetCommit, PartitionLag};
use streamhouse_types::TopicPartition;

use crate::error::ApiError;
use crate::extract::{Body, Params};
use crate::routes::{Page, Paged};
use crate::state::AppState;

/// A group in a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GroupSummary {
    group_id: String,
    /// Empty, PreparingRebalance, CompletingRebalance, Stable or Dead.
    state: String,
    /// `consumer` for Kafka consumers; empty for groups that only commit offsets.
    protocol_type: String,
    members: usize,
    /// Sum of the partitions' lag.
    total_lag: i64,
}

/// One partition's lag.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PartitionLagView {
    topic: String,
    partition: i32,
    committed_offset: Option<i64>,
    log_end_offset: i64,
    lag: Option<i64>,
    /// Member the partition is assigned to.
    member_id: Option<String>,
}

/// A member of a group.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MemberView {
    member_id: String,
    /// `group.instance.id` of a static member.
    instance_id: Option<String>,
    client_id: String,
    client_host: String,
    /// Assigned partitions, as `topic` and `partition`.
    assignment: Vec<AssignedPartition>,
}

/// A partition assigned to a member.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AssignedPartition {
    topic: String,
    partition: i32,
}

/// A group in detail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GroupDetail {
    group_id: String,
    state: String,
    protocol_type: String,
    /// The assignor the generation uses (only while Stable).
    protocol: String,
    generation: i32,
    leader: Option<String>,
    members: Vec<MemberView>,
    partitions: Vec<PartitionLagView>,
    total_lag: i64,
}

/// A group's lag.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LagView {
    group_id: String,
    state: String,
    partitions: Vec<PartitionLagView>,
    total_lag: i64,
}

fn lag_view(p: PartitionLag) -> PartitionLagView {
    PartitionLagView {
        topic: p.topic,
        partition: p.partition,
        committed_offset: p.committed_offset,
        log_end_offset: p.log_end_offset,
        lag: p.lag,
        member_id: p.member_id,
    }
}

/// Lists consumer groups with their state, members and total lag.
#[utoipa::path(get, path = "/api/v1/consumer-groups", operation_id = "list_consumer_groups", tag = "consumer-groups", params(Page),
    responses((status = 200, body = Paged<GroupSummary>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Params(page): Params<Page>,
) -> Result<Json<Paged<GroupSummary>>, ApiError> {
    let groups = state.groups().all_groups().await?;
    let mut all = Vec::with_capacity(groups.len());
    for group in groups {
        let total_lag = match state.groups().lag(&group.group_id).await {
            Ok(lag) => lag.total_lag,
            Err(streamhouse_groups::GroupError::GroupIdNotFound) => 0,
            Err(error) => return Err(error.into()),
        };
        all.push(GroupSummary {
            state: group.state.as_str().to_owned(),
            protocol_type: group.protocol_type,
            members: group.members,
            group_id: group.group_id,
            total_lag,
        });
    }
    Ok(Json(page.apply(all)?))
}

/// A group's members, assignments and per-partition lag.
#[utoipa::path(get, path = "/api/v1/consumer-groups/{id}", operation_id = "get_consumer_group", tag = "consumer-groups",
    params(("id" = String, Path, description = "Group id")),
    responses((status = 200, body = GroupDetail), (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<GroupDetail>, ApiError> {
    let group = state.groups().inspect(&id).await?;
    // Unknown (Dead) groups are a 404 from here.
    let lag = state.groups().lag_of(&group).await?;
    Ok(Json(GroupDetail {
        group_id: group.group_id,
        state: group.state.as_str().to_owned(),
        protocol_type: group.protocol_type,
        protocol: group.protocol_name,
        generation: group.generation,
        leader: group.leader,
        members: group
            .members
            .into_iter()
            .map(|m| MemberView {
                member_id: m.member_id,
                instance_id: m.instance_id,
                client_id: m.client_id,
                client_host: m.client_host,
                assignment: m
                    .assigned_partitions
                    .into_iter()
                    .map(|(topic, partition)| AssignedPartition { topic, partition })
                    .collect(),
            })
            .collect(),
        total_lag: lag.total_lag,
        partitions: lag.partitions.into_iter().map(lag_view).collect(),
    }))
}

/// A group's lag per partition.
#[utoipa::path(get, path = "/api/v1/consumer-groups/{id}/lag", operation_id = "get_consumer_group_lag", tag = "consumer-groups",
    params(("id" = String, Path, description = "Group id")),
    responses((status = 200, body = LagView), (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn lag(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<LagView>, ApiError> {
    let lag = state.groups().lag(&id).await?;
    Ok(Json(LagView {
        group_id: lag.group_id,
        state: lag.state.as_str().to_owned(),
        total_lag: lag.total_lag,
        partitions: lag.partitions.into_iter().map(lag_view).collect(),
    }))
}

/// Where to move a group's committed offsets.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ResetTo {
    /// The oldest stored record.
    Earliest,
    /// The end of the log (skip everything).
    Latest,
    /// The first record at or after `timestamp`.
    Timestamp,
    /// Exactly `offset` (clamped to the stored range).
    Offset,
}

/// An offset reset.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequest {
    to: ResetTo,
    /// For `to: timestamp`, ms since the epoch.
    timestamp: Option<i64>,
    /// For `to: offset`.
    offset: Option<i64>,
    /// Reset every partition of this topic; without it, the partitions the group has
    /// committed offsets for.
    topic: Option<String>,
}

/// A committed offset after a reset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ResetOffset {
    topic: String,
    partition: i32,
    offset: i64,
}

/// Moves a group's committed offsets. Refused with 409 while the group has members, as
/// Kafka's tools refuse it.
#[utoipa::path(post, path = "/api/v1/consumer-groups/{id}/reset", operation_id = "reset_consumer_group_offsets", tag = "consumer-groups",
    params(("id" = String, Path, description = "Group id")), request_body = ResetRequest,
    responses((status = 200, body = Vec<ResetOffset>), (status = 404, body = crate::ErrorBody),
        (status = 409, body = crate::ErrorBody), (status = 422, body = crate::ErrorBody)))]
pub(crate) async fn reset(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(request): Body<ResetRequest>,
) -> Result<Json<Vec<ResetOffset>>, ApiError> {
    match (request.to, request.timestamp, request.offset) {
        (ResetTo::Timestamp, None, _) => {
            return Err(ApiError::invalid("to: timestamp needs a timestamp"));
        }
        (ResetTo::Offset, _, None) => return Err(ApiError::invalid("to: offset needs an offset")),
        _ => {}
    }
    let engine = state.engine();
    let partitions: Vec<(String, i32)> = match &request.topic {
        Some(topic) => {
            let count = engine.topic(topic).await?.partition_count;
            (0..count).map(|p| (topic.clone(), p)).collect()
        }
        None => {
            let committed = state
                .groups()
                .lag(&id)
                .await?
                .partitions
                .into_iter()
                .filter(|p| p.committed_offset.is_some())
                .map(|p| (p.topic, p.partition))
                .collect::<Vec<_>>();
            if committed.is_empty() {
                return Err(ApiError::invalid(
                    "the group has no committed offsets; name a topic to reset",
                ));
            }
            committed
        }
    };
    let mut offsets = Vec::with_capacity(partitions.len());
    for (topic, partition) in partitions {
        let tp = TopicPartition::new(topic.as_str(), partition);
        let (start, end) = engine.offsets(&tp).await?;
        let offset = match request.to {
            ResetTo::Earliest => start,
            ResetTo::Latest => end,
            ResetTo::Offset => request.offset.unwrap_or(start).clamp(start, end),
            ResetTo::Timestamp => match engine
                .offset_for_timestamp(&tp, request.timestamp.unwrap_or(0))
                .await?
            {
                Some((offset, _)) => offset,
                None => end,
            },
        };
        offsets.push(OffsetCommit {
            topic,
            partition,
            offset,
            leader_epoch: -1,
            metadata: Some("reset by the StreamHouse API".to_owned()),
        });
    }
    // Generation -1 with no member: accepted only while the group has no members.
    let results = state
        .groups()
        .commit_offsets(&id, -1, "", None, offsets.clone())
        .await?;
    if let Some(Err(error)) = results.into_iter().find(Result::is_err) {
        return Err(error.into());
    }
    Ok(Json(
        offsets
            .into_iter()
            .map(|o| ResetOffset {
                topic: o.topic,
                partition: o.partition,
                offset: o.offset,
            })
            .collect(),
    ))
}

/// Offsets to commit for a group, as Kafka's admin tools commit them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommitRequest {
    /// The next offset to consume, per partition.
    offsets: Vec<CommitOffset>,
}

/// One partition's next offset to consume.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommitOffset {
    topic: String,
    partition: i32,
    /// Non-negative; as in Kafka, it may lie past the log end.
    offset: i64,
}

/// Commits offsets for a group (creating it if it does not exist). Refused with 409 while
/// the group has members, as Kafka's tools refuse it. All or nothing: every partition is
/// checked before any offset is written.
#[utoipa::path(post, path = "/api/v1/consumer-groups/{id}/offsets", operation_id = "commit_consumer_group_offsets", tag = "consumer-groups",
    params(("id" = String, Path, description = "Group id")), request_body = CommitRequest,
    responses((status = 200, body = Vec<CommitOffset>), (status = 404, body = crate::ErrorBody),
        (status = 409, body = crate::ErrorBody), (status = 422, body = crate::ErrorBody)))]
pub(crate) async fn commit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(request): Body<CommitRequest>,
) -> Result<Json<Vec<CommitOffset>>, ApiError> {
    if request.offsets.is_empty() {
        return Err(ApiError::invalid("offsets is empty"));
    }
    let engine = state.engine();
    let mut partition_counts: HashMap<&str, i32> = HashMap::new();
    for o in &request.offsets {
        if o.offset < 0 {
            return Err(ApiError::invalid(format!(
                "offset {} of {}-{} is negative",
                o.offset, o.topic, o.partition
            )));
        }
        let count = match partition_counts.get(o.topic.as_str()) {
            Some(count) => *count,
            None => {
                let count = engine.topic(&o.topic).await?.partition_count;
                partition_counts.insert(&o.topic, count);
                count
            }
        };
        if !(0..count).contains(&o.partition) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_partition",
                format!("topic {:?} has no partition {}", o.topic, o.partition),
            ));
        }
    }
    let offsets = request
        .offsets
        .iter()
        .map(|o| OffsetCommit {
            topic: o.topic.clone(),
            partition: o.partition,
            offset: o.offset,
            leader_epoch: -1,
            metadata: Some("committed by the StreamHouse API".to_owned()),
        })
        .collect();
    // Generation -1 with no member: accepted only while the group has no members.
    let results = state
        .groups()
        .commit_offsets(&id, -1, "", None, offsets)
        .await?;
    if let Some(Err(error)) = results.into_iter().find(Result::is_err) {
        return Err(error.into());
    }
    Ok(Json(request.offsets))
}

/// Deletes a group without members, with its committed offsets.
#[utoipa::path(delete, path = "/api/v1/consumer-groups/{id}", operation_id = "delete_consumer_group", tag = "consumer-groups",
    params(("id" = String, Path, description = "Group id")),
    responses((status = 204), (status = 404, body = crate::ErrorBody),
        (status = 409, body = crate::ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.groups().delete_group(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
