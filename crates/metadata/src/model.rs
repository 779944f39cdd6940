//! The records the metadata store keeps, as plain data.

use serde::{Deserialize, Serialize};
use streamhouse_types::{Offset, PartitionId, TimestampMs};
use uuid::Uuid;

/// How a topic's old data is removed. Only `delete` is enforced today; `compact` is stored
/// and reported so clients can set it, and compaction is a later feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CleanupPolicy {
    /// Delete whole segments past retention.
    Delete,
    /// Keep the latest record per key (not yet enforced).
    Compact,
    /// Both.
    #[serde(rename = "compact,delete")]
    CompactDelete,
}

impl CleanupPolicy {
    /// The Kafka config string for this policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Compact => "compact",
            Self::CompactDelete => "compact,delete",
        }
    }

    /// Parses Kafka's `cleanup.policy` value (order-insensitive for the combined form).
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts: Vec<&str> = value.split(',').map(str::trim).collect();
        parts.sort_unstable();
        parts.dedup();
        match parts.as_slice() {
            ["delete"] => Some(Self::Delete),
            ["compact"] => Some(Self::Compact),
            ["compact", "delete"] => Some(Self::CompactDelete),
            _ => None,
        }
    }
}

/// Whether record timestamps are the producer's (`CreateTime`) or the broker's (`LogAppendTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimestampType {
    /// Keep the producer's timestamps.
    CreateTime,
    /// Overwrite the batch max timestamp with the append time.
    LogAppendTime,
}

impl TimestampType {
    /// The Kafka config string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateTime => "CreateTime",
            Self::LogAppendTime => "LogAppendTime",
        }
    }

    /// Parses Kafka's `message.timestamp.type`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "CreateTime" => Some(Self::CreateTime),
            "LogAppendTime" => Some(Self::LogAppendTime),
            _ => None,
        }
    }
}

/// Per-topic configuration (the Kafka topic configs StreamHouse honours).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicConfig {
    /// `retention.ms`: delete data older than this; `-1` keeps it forever.
    pub retention_ms: i64,
    /// `retention.bytes`: per partition, delete the oldest data past this size; `-1` is unlimited.
    pub retention_bytes: i64,
    /// `max.message.bytes`: the largest record batch accepted.
    pub max_message_bytes: i32,
    /// `cleanup.policy`.
    pub cleanup_policy: CleanupPolicy,
    /// `message.timestamp.type`.
    pub timestamp_type: TimestampType,
}

impl Default for TopicConfig {
    /// Kafka's defaults: 7 days, unlimited size, 1 MiB + overhead, delete, CreateTime.
    fn default() -> Self {
        Self {
            retention_ms: 7 * 24 * 60 * 60 * 1000,
            retention_bytes: -1,
            max_message_bytes: 1_048_588,
            cleanup_policy: CleanupPolicy::Delete,
            timestamp_type: TimestampType::CreateTime,
        }
    }
}

/// A topic as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// Kafka topic id (KIP-516), fixed at creation; a re-created topic gets a new one.
    pub id: Uuid,
    /// The name.
    pub name: String,
    /// Number of partitions.
    pub partition_count: i32,
    /// Its configuration.
    pub config: TopicConfig,
    /// When it was created.
    pub created_at_ms: TimestampMs,
}

impl TopicConfig {
    /// The topic configs StreamHouse honours, in Kafka's names.
    pub const NAMES: &'static [&'static str] = &[
        "retention.ms",
        "retention.bytes",
        "max.message.bytes",
        "cleanup.policy",
        "message.timestamp.type",
    ];

    /// Sets one config by its Kafka name (`None` resets it to the default). An unknown
    /// name or a bad value is an error message naming both.
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        let defaults = TopicConfig::default();
        let number = |v: Option<&str>| -> Result<Option<i64>, String> {
            v.map(|v| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("{name}: {v:?} is not a number"))
            })
            .transpose()
        };
        match name {
            "retention.ms" => self.retention_ms = number(value)?.unwrap_or(defaults.retention_ms),
            "retention.bytes" => {
                self.retention_bytes = number(value)?.unwrap_or(defaults.retention_bytes)
            }
            "max.message.bytes" => {
                let bytes = number(value)?.unwrap_or(i64::from(defaults.max_message_bytes));
                self.max_message_bytes = i32::try_from(bytes)
                    .map_err(|_| format!("max.message.bytes: {bytes} is out of range"))?;
            }
            "cleanup.policy" => {
                self.cleanup_policy = match value {
                    None => defaults.cleanup_policy,
                    Some(v) => CleanupPolicy::parse(v).ok_or_else(|| {
                        format!("cleanup.policy: {v:?} is not delete, compact or both")
                    })?,
                }
            }
            "message.timestamp.type" => {
                self.timestamp_type = match value {
                    None => defaults.timestamp_type,
                    Some(v) => TimestampType::parse(v).ok_or_else(|| {
                        format!("message.timestamp.type: {v:?} is not CreateTime or LogAppendTime")
                    })?,
                }
            }
            other => {
                return Err(format!(
                    "unknown topic config {other:?}; supported: {}",
                    Self::NAMES.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// `(name, value)` of every honoured config, in Kafka's names.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        vec![
            ("retention.ms", self.retention_ms.to_string()),
            ("retention.bytes", self.retention_bytes.to_string()),
            ("max.message.bytes", self.max_message_bytes.to_string()),
            ("cleanup.policy", self.cleanup_policy.as_str().to_owned()),
            (
                "message.timestamp.type",
                self.timestamp_type.as_str().to_owned(),
            ),
        ]
    }
}

/// A partition's log bounds and its leadership lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState {
    /// The owning topic's id.
    pub topic_id: Uuid,
    /// The owning topic's name.
    pub topic: String,
    /// The partition index.
    pub partition: PartitionId,
    /// First offset still readable.
    pub log_start_offset: Offset,
    /// One past the last durable offset.
    pub high_watermark: Offset,
    /// The agent holding the lease, if any (it may have expired; see `lease_expires_at_ms`).
    pub leader: Option<String>,
    /// The lease epoch: bumped on every change of holder; commits are fenced by it.
    pub leader_epoch: i32,
    /// When the current lease expires unless renewed.
    pub lease_expires_at_ms: TimestampMs,
}

/// How many bytes of batches one partition has stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionSize {
    /// The topic's id.
    pub topic_id: Uuid,
    /// The partition.
    pub partition: PartitionId,
    /// Bytes of stored record batches.
    pub bytes: i64,
}

/// One partition's contiguous run of batches inside one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRef {
    /// First offset in the run.
    pub base_offset: Offset,
    /// Last offset in the run (inclusive).
    pub last_offset: Offset,
    /// Largest record timestamp in the run.
    pub max_timestamp: TimestampMs,
    /// Object key, relative to the store's root.
    pub object_key: String,
    /// Where the run starts in the object.
    pub byte_offset: i64,
    /// How long the run is.
    pub byte_length: i64,
    /// Number of records in the run.
    pub record_count: i64,
}

/// A lease this agent holds, as needed to fence commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseEpoch {
    /// The partition's topic id.
    pub topic_id: Uuid,
    /// The partition index.
    pub partition: PartitionId,
    /// The epoch the lease was granted with.
    pub epoch: i32,
}

/// The latest batches an idempotent producer wrote to one partition, for duplicate detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerState {
    /// Producer id.
    pub producer_id: i64,
    /// Producer epoch of the latest batch.
    pub producer_epoch: i16,
    /// Up to the last 5 batches, oldest first (Kafka's in-flight window).
    pub batches: Vec<ProducerBatch>,
}

/// Sequence and offset range of one idempotent batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerBatch {
    /// The batch's first sequence number.
    pub first_sequence: i32,
    /// The batch's last sequence number.
    pub last_sequence: i32,
    /// Offset assigned to the first record.
    pub base_offset: Offset,
    /// The batch's (possibly broker-assigned) max timestamp.
    pub timestamp: TimestampMs,
}

/// Everything one partition contributes to one flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionCommit {
    /// Which partition, and the lease epoch the writer holds.
    pub lease: LeaseEpoch,
    /// The run written for it; `segment.base_offset` must equal the current high watermark.
    pub segment: SegmentRef,
    /// Updated idempotent-producer states touched by this run.
    pub producers: Vec<ProducerState>,
}

/// The outcome of a flush commit for one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Recorded; the high watermark is now `segment.last_offset + 1`.
    Committed,
    /// Not recorded because another partition of the same flush was fenced; retry it.
    RolledBack,
    /// The same run was already recorded (a retried commit whose first attempt succeeded).
    AlreadyCommitted,
    /// The lease epoch is stale: another agent owns the partition. Nothing was recorded.
    Fenced,
}

/// A registered agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Stable id (persisted in the data dir for embedded nodes).
    pub id: String,
    /// Kafka address clients should use, `host:port`.
    pub advertised_addr: String,
    /// Rack / availability zone, if known.
    pub rack: Option<String>,
    /// When this incarnation started.
    pub started_at_ms: TimestampMs,
    /// Last heartbeat.
    pub heartbeat_at_ms: TimestampMs,
}

/// A consumer group's committed offset for one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOffset {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: PartitionId,
    /// The committed offset (the next record to consume).
    pub offset: Offset,
    /// The leader epoch the consumer saw, or -1.
    pub leader_epoch: i32,
    /// Free-form client metadata.
    pub metadata: Option<String>,
    /// When it was committed.
    pub commit_timestamp_ms: TimestampMs,
}

/// A consumer group's persisted record: who coordinates it, at which epoch, and the state
/// its coordinator last stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGroup {
    /// The group id.
    pub group_id: String,
    /// The agent that claimed the group last.
    pub coordinator: String,
    /// Bumped by every claim; writes on behalf of the group are fenced by it.
    pub coordinator_epoch: i64,
    /// The group's state as its coordinator stored it (opaque to the store), or `None` if
    /// none has been stored yet.
    pub state: Option<String>,
    /// When the group was last claimed or its state stored.
    pub updated_at_ms: TimestampMs,
}

impl AgentInfo {
    /// Whether the agent heartbeated within `ttl_ms` of `now_ms`: an agent silent for a
    /// lease TTL is as good as gone, for leases, coordinators and the API alike.
    pub fn is_live(&self, now_ms: TimestampMs, ttl_ms: i64) -> bool {
        self.heartbeat_at_ms + ttl_ms > now_ms
    }

    /// An agent with an id and advertised address; timestamps are filled in on registration.
    pub fn new(id: impl Into<String>, advertised_addr: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            advertised_addr: advertised_addr.into(),
            rack: None,
            started_at_ms: 0,
            heartbeat_at_ms: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_configs_parse_and_bad_ones_are_explained() {
        let mut config = TopicConfig::default();
        config.set("retention.ms", Some("60000")).expect("ok");
        config
            .set("cleanup.policy", Some("delete,compact"))
            .expect("ok");
        config
            .set("message.timestamp.type", Some("LogAppendTime"))
            .expect("ok");
        assert_eq!(config.retention_ms, 60_000);
        assert_eq!(config.cleanup_policy, CleanupPolicy::CompactDelete);
        assert_eq!(config.timestamp_type, TimestampType::LogAppendTime);
        config.set("retention.ms", None).expect("reset to default");
        assert_eq!(config.retention_ms, TopicConfig::default().retention_ms);
        assert!(config.set("retention.ms", Some("soon")).is_err());
        assert!(config.set("segment.bytes", Some("1")).is_err());
        assert!(
            config
                .set("max.message.bytes", Some("99999999999"))
                .is_err()
        );
        assert_eq!(config.entries().len(), TopicConfig::NAMES.len());
    }
}
