//! Topics: list, create, detail with partitions, configs, delete.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use streamhouse_metadata::{PartitionState, Topic, TopicConfig};
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{Body, Params};
use crate::routes::{Page, Paged};
use crate::state::AppState;

/// A topic in a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TopicSummary {
    name: String,
    partitions: i32,
    /// Records currently stored (high watermark minus log start, summed).
    records: i64,
    /// Bytes of record batches stored.
    bytes: i64,
    /// Kafka topic configs (`retention.ms`, ...).
    configs: BTreeMap<String, String>,
}

/// One partition's state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PartitionInfo {
    partition: i32,
    log_start_offset: i64,
    high_watermark: i64,
    records: i64,
    /// Bytes of record batches stored.
    bytes: i64,
    /// Agent holding the partition's lease, if any.
    leader: Option<String>,
    leader_epoch: i32,
}

/// A topic with its partitions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TopicDetail {
    name: String,
    /// The Kafka topic id.
    id: String,
    created_at_ms: i64,
    records: i64,
    /// Bytes of record batches stored.
    bytes: i64,
    configs: BTreeMap<String, String>,
    partitions: Vec<PartitionInfo>,
}

/// A topic to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTopic {
    /// 1..=249 characters of `[a-zA-Z0-9._-]`.
    name: String,
    /// Partition count (default: `engine.default_partitions`).
    #[serde(default)]
    partitions: Option<i32>,
    /// Kafka topic configs, e.g. `{"retention.ms": "86400000"}`.
    #[serde(default)]
    configs: BTreeMap<String, String>,
}

/// Stored bytes by (topic id, partition), of one topic or of all.
pub(crate) async fn stored_bytes(
    state: &AppState,
    topic_id: Option<Uuid>,
) -> Result<HashMap<(Uuid, i32), i64>, ApiError> {
    Ok(state
        .engine()
        .metadata()
        .partition_sizes(topic_id)
        .await
        .map_err(streamhouse_engine::Error::from)?
        .into_iter()
        .map(|s| ((s.topic_id, s.partition), s.bytes))
        .collect())
}

fn partition_info(p: &PartitionState, sizes: &HashMap<(Uuid, i32), i64>) -> PartitionInfo {
    PartitionInfo {
        partition: p.partition,
        log_start_offset: p.log_start_offset,
        high_watermark: p.high_watermark,
        records: p.high_watermark - p.log_start_offset,
        bytes: sizes.get(&(p.topic_id, p.partition)).copied().unwrap_or(0),
        leader: p.leader.clone(),
        leader_epoch: p.leader_epoch,
    }
}

fn configs(config: &TopicConfig) -> BTreeMap<String, String> {
    config
        .entries()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

/// Lists topics with their partition counts, record counts and configs.
#[utoipa::path(get, path = "/api/v1/topics", operation_id = "list_topics", tag = "topics", params(Page),
    responses((status = 200, body = Paged<TopicSummary>), (status = 422, body = crate::ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Params(page): Params<Page>,
) -> Result<Json<Paged<TopicSummary>>, ApiError> {
    let engine = state.engine();
    let topics = engine.list_topics().await?;
    let sizes = stored_bytes(&state, None).await?;
    let mut records: HashMap<String, (i64, i64)> = HashMap::new();
    for p in engine
        .metadata()
        .partitions(None)
        .await
        .map_err(streamhouse_engine::Error::from)?
    {
        let totals = records.entry(p.topic).or_default();
        totals.0 += p.high_watermark - p.log_start_offset;
        totals.1 += sizes.get(&(p.topic_id, p.partition)).copied().unwrap_or(0);
    }
    let all = topics
        .into_iter()
        .map(|t| TopicSummary {
            records: records.get(&t.name).map_or(0, |r| r.0),
            bytes: records.get(&t.name).map_or(0, |r| r.1),
            configs: configs(&t.config),
            partitions: t.partition_count,
            name: t.name,
        })
        .collect();
    Ok(Json(page.apply(all)?))
}

/// Creates a topic.
#[utoipa::path(post, path = "/api/v1/topics", operation_id = "create_topic", tag = "topics", request_body = NewTopic,
    responses((status = 201, body = TopicDetail), (status = 400, body = crate::ErrorBody),
        (status = 409, body = crate::ErrorBody), (status = 422, body = crate::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Body(new): Body<NewTopic>,
) -> Result<(StatusCode, Json<TopicDetail>), ApiError> {
    let mut config = TopicConfig::default();
    for (name, value) in &new.configs {
        config.set(name, Some(value)).map_err(ApiError::invalid)?;
    }
    let partitions = new.partitions.unwrap_or(state.inner.default_partitions);
    state
        .engine()
        .create_topic(&new.name, partitions, config)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(detail_of(&state, &new.name).await?),
    ))
}

async fn detail_of(state: &AppState, name: &str) -> Result<TopicDetail, ApiError> {
    let engine = state.engine();
    let topic: Topic = engine.topic(name).await?;
    let sizes = stored_bytes(state, Some(topic.id)).await?;
    let partitions: Vec<PartitionInfo> = engine
        .metadata()
        .partitions(Some(name))
        .await
        .map_err(streamhouse_engine::Error::from)?
        .iter()
        .map(|p| partition_info(p, &sizes))
        .collect();
    Ok(TopicDetail {
        records: partitions.iter().map(|p| p.records).sum(),
        bytes: partitions.iter().map(|p| p.bytes).sum(),
        id: topic.id.to_string(),
        created_at_ms: topic.created_at_ms,
        configs: configs(&topic.config),
        name: topic.name,
        partitions,
    })
}

/// A topic with its partitions' watermarks and leaders.
#[utoipa::path(get, path = "/api/v1/topics/{name}", operation_id = "get_topic", tag = "topics",
    params(("name" = String, Path, description = "Topic name")),
    responses((status = 200, body = TopicDetail), (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn detail(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<TopicDetail>, ApiError> {
    Ok(Json(detail_of(&state, &name).await?))
}

/// A topic's partitions.
#[utoipa::path(get, path = "/api/v1/topics/{name}/partitions", operation_id = "list_partitions", tag = "topics",
    params(("name" = String, Path, description = "Topic name")),
    responses((status = 200, body = Vec<PartitionInfo>), (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn partitions(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<PartitionInfo>>, ApiError> {
    Ok(Json(detail_of(&state, &name).await?.partitions))
}

/// Changes topic configs: each key is set to its value, or reset to the default if null.
#[utoipa::path(patch, path = "/api/v1/topics/{name}/configs", operation_id = "alter_topic_configs", tag = "topics",
    params(("name" = String, Path, description = "Topic name")),
    request_body = BTreeMap<String, Option<String>>,
    responses((status = 200, body = TopicDetail), (status = 404, body = crate::ErrorBody),
        (status = 422, body = crate::ErrorBody)))]
pub(crate) async fn alter_configs(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Body(changes): Body<BTreeMap<String, Option<String>>>,
) -> Result<Json<TopicDetail>, ApiError> {
    let engine = state.engine();
    let mut config = engine.topic(&name).await?.config;
    for (key, value) in &changes {
        config
            .set(key, value.as_deref())
            .map_err(ApiError::invalid)?;
    }
    engine.update_topic_config(&name, config).await?;
    Ok(Json(detail_of(&state, &name).await?))
}

/// Deletes a topic and its data.
#[utoipa::path(delete, path = "/api/v1/topics/{name}", operation_id = "delete_topic", tag = "topics",
    params(("name" = String, Path, description = "Topic name")),
    responses((status = 204), (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.engine().delete_topic(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}
