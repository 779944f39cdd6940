//! What the SQLite and PostgreSQL backends share: row shapes (decoded by either driver through
//! `sqlx::FromRow`), their conversion to the model, and the pure checks behind
//! `commit_flush` and `replace_segments`.

use uuid::Uuid;

use crate::{
    AgentInfo, CleanupPolicy, CommitOutcome, Error, GroupOffset, PartitionCommit, PartitionState,
    ProducerBatch, ProducerState, Result, SegmentRef, StoredGroup, TimestampType, Topic,
    TopicConfig,
};

/// Statements that read the same in both dialects (SQLite accepts `$n` parameters).
pub(crate) mod sql {
    /// Takes a partition's lease: `$1` agent, `$2` expiry, `$3` topic id, `$4` partition,
    /// `$5` now. Returns a [`super::PartitionRow`] if granted.
    pub(crate) const ACQUIRE_LEASE: &str = "UPDATE partitions \
         SET leader_agent_id = $1, leader_epoch = leader_epoch + 1, lease_expires_at_ms = $2 \
         WHERE topic_id = $3 AND partition = $4 \
           AND (leader_agent_id IS NULL OR leader_agent_id = $1 OR lease_expires_at_ms <= $5) \
         RETURNING topic_id, \
           (SELECT name FROM topics WHERE topics.id = partitions.topic_id) AS topic, \
           partition, log_start_offset, high_watermark, leader_agent_id, leader_epoch, \
           lease_expires_at_ms";

    /// Extends a held lease: `$1` expiry, `$2` topic id, `$3` partition, `$4` agent, `$5` epoch.
    pub(crate) const RENEW_LEASE: &str = "UPDATE partitions SET lease_expires_at_ms = $1 \
         WHERE topic_id = $2 AND partition = $3 AND leader_agent_id = $4 AND leader_epoch = $5";

    /// Gives a held lease up, keeping its epoch: `$1` topic id, `$2` partition, `$3` agent,
    /// `$4` epoch.
    pub(crate) const RELEASE_LEASE: &str = "UPDATE partitions \
         SET leader_agent_id = NULL, lease_expires_at_ms = 0 \
         WHERE topic_id = $1 AND partition = $2 AND leader_agent_id = $3 AND leader_epoch = $4";

    /// The fenced high-watermark moves of a flush commit, as a multi-row statement: this
    /// prefix, then `VALUES` rows of (topic id, partition, lease epoch, segment base offset,
    /// new high watermark), then [`ADVANCE_HIGH_WATERMARKS_UPDATE`]. A partition moves only
    /// if its epoch is still the lease's and the run starts at its high watermark.
    pub(crate) const ADVANCE_HIGH_WATERMARKS_WITH: &str =
        "WITH v (topic_id, partition, epoch, base_offset, high_watermark) AS (";

    /// See [`ADVANCE_HIGH_WATERMARKS_WITH`]; returns `topic_id, partition` of the rows moved.
    pub(crate) const ADVANCE_HIGH_WATERMARKS_UPDATE: &str = ") UPDATE partitions \
         SET high_watermark = v.high_watermark FROM v \
         WHERE partitions.topic_id = v.topic_id AND partitions.partition = v.partition \
           AND partitions.leader_epoch = v.epoch AND partitions.high_watermark = v.base_offset \
         RETURNING partitions.topic_id, partitions.partition";

    /// The object key of the segment row at `$1` topic id, `$2` partition, `$3` base offset.
    pub(crate) const SEGMENT_KEY_AT: &str = "SELECT object_key FROM segments \
         WHERE topic_id = $1 AND partition = $2 AND base_offset = $3";

    /// Adds segment rows: this, then `VALUES` rows in the same column order.
    pub(crate) const INSERT_SEGMENTS: &str = "INSERT INTO segments (topic_id, partition, \
         base_offset, last_offset, max_timestamp, object_key, byte_offset, byte_length, \
         record_count) ";

    /// Adds a topic: `$1`..`$9` in `topics` column order.
    pub(crate) const INSERT_TOPIC: &str = "INSERT INTO topics (id, name, partition_count, \
         retention_ms, retention_bytes, max_message_bytes, cleanup_policy, timestamp_type, \
         created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

    /// The topic named `$1`.
    pub(crate) const TOPIC_BY_NAME: &str = "SELECT id, name, partition_count, retention_ms, \
         retention_bytes, max_message_bytes, cleanup_policy, timestamp_type, created_at_ms \
         FROM topics WHERE name = $1";

    /// All topics by name.
    pub(crate) const ALL_TOPICS: &str = "SELECT id, name, partition_count, retention_ms, \
         retention_bytes, max_message_bytes, cleanup_policy, timestamp_type, created_at_ms \
         FROM topics ORDER BY name";

    /// Replaces the config of topic `$1`: `$2` retention ms, `$3` retention bytes, `$4` max
    /// message bytes, `$5` cleanup policy, `$6` timestamp type.
    pub(crate) const UPDATE_TOPIC_CONFIG: &str = "UPDATE topics SET retention_ms = $2, \
         retention_bytes = $3, max_message_bytes = $4, cleanup_policy = $5, timestamp_type = $6 \
         WHERE name = $1";

    /// Sets the partition count of topic id `$1` to `$2`.
    pub(crate) const SET_PARTITION_COUNT: &str =
        "UPDATE topics SET partition_count = $2 WHERE id = $1";

    /// Adds partitions `$2..$3` (which must be non-empty) of topic id `$1`.
    pub(crate) const INSERT_PARTITIONS: &str = "WITH RECURSIVE seq (p) AS ( \
           SELECT CAST($2 AS INTEGER) UNION ALL SELECT p + 1 FROM seq WHERE p + 1 < $3) \
         INSERT INTO partitions (topic_id, partition) SELECT $1, p FROM seq";

    /// Deletes everything keyed by topic id `$1`, children first (one statement each).
    pub(crate) const DELETE_TOPIC_ROWS: [&str; 4] = [
        "DELETE FROM segments WHERE topic_id = $1",
        "DELETE FROM producer_states WHERE topic_id = $1",
        "DELETE FROM partitions WHERE topic_id = $1",
        "DELETE FROM topics WHERE id = $1",
    ];

    /// Deletes all committed offsets for topic name `$1`.
    pub(crate) const DELETE_TOPIC_GROUP_OFFSETS: &str =
        "DELETE FROM group_offsets WHERE topic = $1";

    /// Partition `$2` of topic `$1`.
    pub(crate) const PARTITION: &str = "SELECT p.topic_id, t.name AS topic, p.partition, \
         p.log_start_offset, p.high_watermark, p.leader_agent_id, p.leader_epoch, \
         p.lease_expires_at_ms FROM partitions p JOIN topics t ON t.id = p.topic_id \
         WHERE t.name = $1 AND p.partition = $2";

    /// Partitions of topic `$1`, in order.
    pub(crate) const PARTITIONS_OF: &str = "SELECT p.topic_id, t.name AS topic, p.partition, \
         p.log_start_offset, p.high_watermark, p.leader_agent_id, p.leader_epoch, \
         p.lease_expires_at_ms FROM partitions p JOIN topics t ON t.id = p.topic_id \
         WHERE t.name = $1 ORDER BY p.partition";

    /// All partitions, by topic name and index.
    pub(crate) const ALL_PARTITIONS: &str = "SELECT p.topic_id, t.name AS topic, p.partition, \
         p.log_start_offset, p.high_watermark, p.leader_agent_id, p.leader_epoch, \
         p.lease_expires_at_ms FROM partitions p JOIN topics t ON t.id = p.topic_id \
         ORDER BY t.name, p.partition";

    /// Whether partition `$2` of topic id `$1` exists (selects 1).
    pub(crate) const PARTITION_EXISTS: &str =
        "SELECT 1 FROM partitions WHERE topic_id = $1 AND partition = $2";

    /// Records a heartbeat of agent `$1` at `$2`.
    pub(crate) const HEARTBEAT: &str = "UPDATE agents SET heartbeat_at_ms = $2 WHERE id = $1";

    /// Removes agent `$1`.
    pub(crate) const DELETE_AGENT: &str = "DELETE FROM agents WHERE id = $1";

    /// All agents by id.
    pub(crate) const ALL_AGENTS: &str = "SELECT id, advertised_addr, rack, started_at_ms, \
         heartbeat_at_ms FROM agents ORDER BY id";

    /// Producer states of `$1` topic id, `$2` partition.
    pub(crate) const PRODUCER_STATES: &str = "SELECT producer_id, producer_epoch, batches \
         FROM producer_states WHERE topic_id = $1 AND partition = $2 ORDER BY producer_id";

    /// Committed offsets of group `$1`, by topic and partition.
    pub(crate) const GROUP_OFFSETS: &str = "SELECT topic, partition, committed_offset, \
         leader_epoch, metadata, commit_timestamp_ms FROM group_offsets WHERE group_id = $1 \
         ORDER BY topic, partition";

    /// Deletes group `$1`'s offset for topic `$2`, partition `$3`.
    pub(crate) const DELETE_GROUP_OFFSET: &str =
        "DELETE FROM group_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3";

    /// Deletes all of group `$1`'s offsets.
    pub(crate) const DELETE_GROUP_OFFSETS: &str = "DELETE FROM group_offsets WHERE group_id = $1";

    /// Deletes group `$1`'s offsets committed before `$2`.
    pub(crate) const EXPIRE_GROUP_OFFSETS: &str =
        "DELETE FROM group_offsets WHERE group_id = $1 AND commit_timestamp_ms < $2";

    /// Ids of groups with offsets.
    pub(crate) const GROUPS_WITH_OFFSETS: &str =
        "SELECT DISTINCT group_id FROM group_offsets ORDER BY group_id";

    /// Hands out the next coordinator epoch of group `$1` (1 for a new id). On PostgreSQL the
    /// row stays locked until the claiming transaction ends, which serialises claims.
    pub(crate) const NEXT_GROUP_EPOCH: &str = "INSERT INTO group_epochs (group_id, last_epoch) \
         VALUES ($1, 1) ON CONFLICT (group_id) \
         DO UPDATE SET last_epoch = group_epochs.last_epoch + 1 RETURNING last_epoch";

    /// Makes `$2` the coordinator of group `$1` at epoch `$3` at time `$4`, creating the record
    /// (without state) if missing and keeping its state otherwise. Returns a
    /// [`super::GroupRow`].
    pub(crate) const CLAIM_GROUP: &str = "INSERT INTO groups \
         (group_id, coordinator, coordinator_epoch, state, updated_at_ms) \
         VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (group_id) DO UPDATE SET \
         coordinator = excluded.coordinator, coordinator_epoch = excluded.coordinator_epoch, \
         updated_at_ms = excluded.updated_at_ms \
         RETURNING group_id, coordinator, coordinator_epoch, state, updated_at_ms";

    /// Stores state `$3` of group `$1` at time `$4` if its epoch is still `$2`.
    pub(crate) const STORE_GROUP: &str = "UPDATE groups SET state = $3, updated_at_ms = $4 \
         WHERE group_id = $1 AND coordinator_epoch = $2";

    /// Checks inside a write transaction that group `$1` is still at epoch `$2` (one row
    /// affected if so). The no-op update locks the row until the transaction ends on
    /// PostgreSQL, so a concurrent claim waits for the transaction instead of slipping in
    /// between the check and the writes it guards.
    pub(crate) const FENCE_GROUP: &str = "UPDATE groups SET updated_at_ms = updated_at_ms \
         WHERE group_id = $1 AND coordinator_epoch = $2";

    /// Deletes the record of group `$1` if its epoch is still `$2`.
    pub(crate) const DELETE_GROUP: &str =
        "DELETE FROM groups WHERE group_id = $1 AND coordinator_epoch = $2";

    /// The record of group `$1`.
    pub(crate) const GROUP_BY_ID: &str = "SELECT group_id, coordinator, coordinator_epoch, \
         state, updated_at_ms FROM groups WHERE group_id = $1";

    /// All group records by id.
    pub(crate) const ALL_GROUPS: &str = "SELECT group_id, coordinator, coordinator_epoch, \
         state, updated_at_ms FROM groups ORDER BY group_id";

    /// Upserts producer states: this, then `VALUES` rows of (topic id, partition, producer id,
    /// epoch, batches JSON), then [`UPSERT_PRODUCER_STATES_CONFLICT`].
    pub(crate) const UPSERT_PRODUCER_STATES: &str = "INSERT INTO producer_states \
         (topic_id, partition, producer_id, producer_epoch, batches) ";

    /// See [`UPSERT_PRODUCER_STATES`].
    pub(crate) const UPSERT_PRODUCER_STATES_CONFLICT: &str = " ON CONFLICT (topic_id, partition, producer_id) \
         DO UPDATE SET producer_epoch = excluded.producer_epoch, batches = excluded.batches";

    /// Upserts an agent: `$1` id, `$2` address, `$3` rack, `$4` started, `$5` heartbeat.
    pub(crate) const UPSERT_AGENT: &str = "INSERT INTO agents \
         (id, advertised_addr, rack, started_at_ms, heartbeat_at_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET advertised_addr = excluded.advertised_addr, \
         rack = excluded.rack, started_at_ms = excluded.started_at_ms, \
         heartbeat_at_ms = excluded.heartbeat_at_ms";

    /// Upserts a committed offset: `$1` group, `$2` topic, `$3` partition, `$4` offset,
    /// `$5` leader epoch, `$6` metadata, `$7` commit time.
    pub(crate) const UPSERT_GROUP_OFFSET: &str = "INSERT INTO group_offsets \
         (group_id, topic, partition, committed_offset, leader_epoch, metadata, \
         commit_timestamp_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (group_id, topic, partition) DO UPDATE SET \
         committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch, \
         metadata = excluded.metadata, commit_timestamp_ms = excluded.commit_timestamp_ms";

    /// Segment rows of `$1` topic id, `$2` partition ending at or after `$3`, at most `$4`.
    /// Runs of a partition do not overlap, so they start at the last one beginning at or
    /// before `$3`: a primary-key seek.
    pub(crate) const SEGMENTS_FROM: &str = "SELECT base_offset, last_offset, max_timestamp, \
         object_key, byte_offset, byte_length, record_count FROM segments \
         WHERE topic_id = $1 AND partition = $2 AND last_offset >= $3 \
           AND base_offset >= COALESCE((SELECT MAX(base_offset) FROM segments \
             WHERE topic_id = $1 AND partition = $2 AND base_offset <= $3), $3) \
         ORDER BY base_offset LIMIT $4";

    /// Stored bytes per partition.
    pub(crate) const PARTITION_SIZES: &str = "SELECT topic_id, partition, \
         CAST(SUM(byte_length) AS BIGINT) AS bytes FROM segments GROUP BY topic_id, partition";

    /// Stored bytes per partition of `$1` topic id (through the primary key's prefix).
    pub(crate) const PARTITION_SIZES_OF: &str = "SELECT topic_id, partition, \
         CAST(SUM(byte_length) AS BIGINT) AS bytes FROM segments WHERE topic_id = $1 \
         GROUP BY topic_id, partition";

    /// The first row of `$1` topic id, `$2` partition at or after the log start with a max
    /// timestamp of at least `$3`.
    pub(crate) const SEGMENT_FOR_TIMESTAMP: &str = "SELECT s.base_offset, s.last_offset, \
         s.max_timestamp, s.object_key, s.byte_offset, s.byte_length, s.record_count \
         FROM segments s JOIN partitions p \
           ON p.topic_id = s.topic_id AND p.partition = s.partition \
         WHERE s.topic_id = $1 AND s.partition = $2 AND s.max_timestamp >= $3 \
           AND s.last_offset >= p.log_start_offset \
         ORDER BY s.base_offset LIMIT 1";

    /// Segment rows of `$1` topic id, `$2` partition with base offsets in `$3..=$4`.
    pub(crate) const SEGMENTS_WITH_BASE_IN: &str = "SELECT base_offset, last_offset, \
         max_timestamp, object_key, byte_offset, byte_length, record_count FROM segments \
         WHERE topic_id = $1 AND partition = $2 AND base_offset >= $3 AND base_offset <= $4 \
         ORDER BY base_offset";

    /// Deletes the segment rows of `$1` topic id, `$2` partition with base offsets in `$3..=$4`.
    pub(crate) const DELETE_SEGMENTS_WITH_BASE_IN: &str = "DELETE FROM segments \
         WHERE topic_id = $1 AND partition = $2 AND base_offset >= $3 AND base_offset <= $4";

    /// Moves the log start of `$2` topic id, `$3` partition to `$1`.
    pub(crate) const SET_LOG_START: &str = "UPDATE partitions SET log_start_offset = $1 \
         WHERE topic_id = $2 AND partition = $3";

    /// Drops the segment rows of `$1` topic id, `$2` partition that end before `$3`.
    pub(crate) const DELETE_SEGMENTS_BEFORE: &str = "DELETE FROM segments \
         WHERE topic_id = $1 AND partition = $2 AND base_offset < $3 AND last_offset < $3";
}

/// Maps a driver error to [`Error::Database`], naming the operation.
pub(crate) fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |source| Error::Database { op, source }
}

/// Whether a driver error is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// A fresh topic id. Like Kafka's `Uuid.randomUuid()`, avoids ids whose base64 form starts
/// with `-` (awkward on command lines); v4 ids are never the reserved all-zero id.
pub(crate) fn new_topic_id() -> Uuid {
    loop {
        let id = Uuid::new_v4();
        if id.as_bytes()[0] >> 2 != 62 {
            return id;
        }
    }
}

/// Refuses partition counts below one.
pub(crate) fn check_partition_count(topic: &str, count: i32) -> Result<()> {
    if count < 1 {
        return Err(Error::InvalidPartitionCount {
            topic: topic.to_owned(),
            requested: count,
            reason: "a topic needs at least one partition".to_owned(),
        });
    }
    Ok(())
}

/// Refuses growing a topic to `new_count` unless it is larger than `current`.
pub(crate) fn check_partition_growth(topic: &str, current: i32, new_count: i32) -> Result<()> {
    if new_count <= current {
        return Err(Error::InvalidPartitionCount {
            topic: topic.to_owned(),
            requested: new_count,
            reason: format!("the topic already has {current} partitions; it can only grow"),
        });
    }
    Ok(())
}

/// Refuses commits whose segment is not a non-empty offset range (they would move the high
/// watermark backwards).
pub(crate) fn check_commits(commits: &[PartitionCommit]) -> Result<()> {
    for commit in commits {
        let s = &commit.segment;
        if s.last_offset < s.base_offset || s.last_offset == i64::MAX {
            return Err(Error::Corrupt(format!(
                "flush commit for partition {} of topic {} has invalid offsets {}..={}",
                commit.lease.partition, commit.lease.topic_id, s.base_offset, s.last_offset
            )));
        }
    }
    Ok(())
}

/// Rows per multi-row statement of a flush commit: at most 9 binds a row keeps a statement
/// far under either backend's parameter limit (SQLite 32,766, PostgreSQL 65,535).
pub(crate) const COMMIT_ROWS_PER_STATEMENT: usize = 500;

/// Multi-row statements of up to this many rows are prepared once and kept in the
/// connection's statement cache. A steady workload flushes the same few partitions every
/// time, and preparing its `UPDATE ... FROM (VALUES ...)` anew on every flush cost about
/// 5 % of the agent's CPU at 100 flushes a second. Wider statements vary in width from
/// flush to flush and would only churn the cache.
const CACHED_STATEMENT_MAX_ROWS: usize = 16;

/// Whether a multi-row statement of `rows` rows is worth caching.
pub(crate) fn cache_statement(rows: usize) -> bool {
    rows <= CACHED_STATEMENT_MAX_ROWS
}

/// The operation name flush-commit errors carry.
pub(crate) const COMMIT_FLUSH: &str = "commit flush";

/// The order to apply flush commits in, as waves of indexes into `commits`: wave `k` holds
/// every partition's `k`-th run (runs of one partition keep their order), each wave sorted
/// by topic id and partition. A fixed lock order keeps concurrent flushes from deadlocking.
pub(crate) fn commit_waves(commits: &[PartitionCommit]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..commits.len()).collect();
    order.sort_by_key(|&i| (commits[i].lease.topic_id, commits[i].lease.partition));
    let mut waves: Vec<Vec<usize>> = Vec::new();
    let mut previous = None;
    let mut wave = 0;
    for i in order {
        let key = (commits[i].lease.topic_id, commits[i].lease.partition);
        wave = if previous == Some(key) { wave + 1 } else { 0 };
        previous = Some(key);
        if waves.len() == wave {
            waves.push(Vec::new());
        }
        waves[wave].push(i);
    }
    waves
}

/// Final outcomes of a flush: if any partition was fenced, the transaction is rolled back and
/// every partition that would have been committed becomes [`CommitOutcome::RolledBack`].
/// (An [`CommitOutcome::AlreadyCommitted`] run stays so: it was recorded by an earlier call.)
/// Returns the outcomes and whether the transaction may commit.
pub(crate) fn settle_outcomes(mut outcomes: Vec<CommitOutcome>) -> (Vec<CommitOutcome>, bool) {
    let fenced = outcomes.contains(&CommitOutcome::Fenced);
    if fenced {
        for outcome in &mut outcomes {
            if *outcome == CommitOutcome::Committed {
                *outcome = CommitOutcome::RolledBack;
            }
        }
    }
    (outcomes, !fenced)
}

/// Whether `old` is a non-empty, contiguous run and `new` covers exactly its offsets.
pub(crate) fn valid_replacement(old: &[SegmentRef], new: &SegmentRef) -> bool {
    let (Some(first), Some(last)) = (old.first(), old.last()) else {
        return false;
    };
    let contiguous = old.windows(2).all(|w| {
        w[0].last_offset >= w[0].base_offset
            && w[0].last_offset.checked_add(1) == Some(w[1].base_offset)
    });
    contiguous
        && last.last_offset >= last.base_offset
        && new.base_offset == first.base_offset
        && new.last_offset == last.last_offset
}

/// Whether the stored rows are exactly `expected`: same offsets, objects and byte ranges.
pub(crate) fn rows_match(stored: &[SegmentRef], expected: &[SegmentRef]) -> bool {
    stored.len() == expected.len()
        && stored.iter().zip(expected).all(|(s, e)| {
            s.base_offset == e.base_offset
                && s.last_offset == e.last_offset
                && s.object_key == e.object_key
                && s.byte_offset == e.byte_offset
                && s.byte_length == e.byte_length
        })
}

/// Encodes producer batches for the `batches` column.
pub(crate) fn encode_batches(batches: &[ProducerBatch]) -> Result<String> {
    serde_json::to_string(batches)
        .map_err(|e| Error::Corrupt(format!("cannot encode producer batches: {e}")))
}

/// Encodes object keys as a JSON array (SQLite reads it with `json_each`).
pub(crate) fn encode_keys(keys: &[String]) -> Result<String> {
    serde_json::to_string(keys)
        .map_err(|e| Error::Corrupt(format!("cannot encode object keys: {e}")))
}

/// Parses a stored topic id.
pub(crate) fn parse_topic_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|e| Error::Corrupt(format!("topic id {id:?}: {e}")))
}

/// A `topics` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TopicRow {
    id: String,
    name: String,
    partition_count: i32,
    retention_ms: i64,
    retention_bytes: i64,
    max_message_bytes: i32,
    cleanup_policy: String,
    timestamp_type: String,
    created_at_ms: i64,
}

impl TopicRow {
    /// Converts to the model, checking the stored enums.
    pub(crate) fn into_topic(self) -> Result<Topic> {
        let cleanup_policy = CleanupPolicy::parse(&self.cleanup_policy).ok_or_else(|| {
            Error::Corrupt(format!(
                "topic {:?} has cleanup policy {:?}",
                self.name, self.cleanup_policy
            ))
        })?;
        let timestamp_type = TimestampType::parse(&self.timestamp_type).ok_or_else(|| {
            Error::Corrupt(format!(
                "topic {:?} has timestamp type {:?}",
                self.name, self.timestamp_type
            ))
        })?;
        Ok(Topic {
            id: parse_topic_id(&self.id)?,
            name: self.name,
            partition_count: self.partition_count,
            config: TopicConfig {
                retention_ms: self.retention_ms,
                retention_bytes: self.retention_bytes,
                max_message_bytes: self.max_message_bytes,
                cleanup_policy,
                timestamp_type,
            },
            created_at_ms: self.created_at_ms,
        })
    }
}

/// A `partitions` row joined with its topic's name.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PartitionRow {
    topic_id: String,
    topic: String,
    partition: i32,
    log_start_offset: i64,
    high_watermark: i64,
    leader_agent_id: Option<String>,
    leader_epoch: i32,
    lease_expires_at_ms: i64,
}

impl PartitionRow {
    /// Converts to the model.
    pub(crate) fn into_state(self) -> Result<PartitionState> {
        Ok(PartitionState {
            topic_id: parse_topic_id(&self.topic_id)?,
            topic: self.topic,
            partition: self.partition,
            log_start_offset: self.log_start_offset,
            high_watermark: self.high_watermark,
            leader: self.leader_agent_id,
            leader_epoch: self.leader_epoch,
            lease_expires_at_ms: self.lease_expires_at_ms,
        })
    }
}

/// A `segments` row (without its partition key).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SegmentRow {
    base_offset: i64,
    last_offset: i64,
    max_timestamp: i64,
    object_key: String,
    byte_offset: i64,
    byte_length: i64,
    record_count: i64,
}

impl From<SegmentRow> for SegmentRef {
    fn from(row: SegmentRow) -> Self {
        Self {
            base_offset: row.base_offset,
            last_offset: row.last_offset,
            max_timestamp: row.max_timestamp,
            object_key: row.object_key,
            byte_offset: row.byte_offset,
            byte_length: row.byte_length,
            record_count: row.record_count,
        }
    }
}

/// An `agents` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AgentRow {
    id: String,
    advertised_addr: String,
    rack: Option<String>,
    started_at_ms: i64,
    heartbeat_at_ms: i64,
}

impl From<AgentRow> for AgentInfo {
    fn from(row: AgentRow) -> Self {
        Self {
            id: row.id,
            advertised_addr: row.advertised_addr,
            rack: row.rack,
            started_at_ms: row.started_at_ms,
            heartbeat_at_ms: row.heartbeat_at_ms,
        }
    }
}

/// A `producer_states` row (without its partition key).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ProducerStateRow {
    producer_id: i64,
    producer_epoch: i16,
    batches: String,
}

impl ProducerStateRow {
    /// Converts to the model, decoding the batches.
    pub(crate) fn into_state(self) -> Result<ProducerState> {
        let batches = serde_json::from_str(&self.batches).map_err(|e| {
            Error::Corrupt(format!("batches of producer {}: {e}", self.producer_id))
        })?;
        Ok(ProducerState {
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            batches,
        })
    }
}

/// A `group_offsets` row (without its group id).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct GroupOffsetRow {
    topic: String,
    partition: i32,
    committed_offset: i64,
    leader_epoch: i32,
    metadata: Option<String>,
    commit_timestamp_ms: i64,
}

impl From<GroupOffsetRow> for GroupOffset {
    fn from(row: GroupOffsetRow) -> Self {
        Self {
            topic: row.topic,
            partition: row.partition,
            offset: row.committed_offset,
            leader_epoch: row.leader_epoch,
            metadata: row.metadata,
            commit_timestamp_ms: row.commit_timestamp_ms,
        }
    }
}

/// A `groups` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct GroupRow {
    group_id: String,
    coordinator: String,
    coordinator_epoch: i64,
    state: Option<String>,
    updated_at_ms: i64,
}

impl From<GroupRow> for StoredGroup {
    fn from(row: GroupRow) -> Self {
        Self {
            group_id: row.group_id,
            coordinator: row.coordinator,
            coordinator_epoch: row.coordinator_epoch,
            state: row.state,
            updated_at_ms: row.updated_at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LeaseEpoch;

    fn seg(base: i64, last: i64, key: &str) -> SegmentRef {
        SegmentRef {
            base_offset: base,
            last_offset: last,
            max_timestamp: 0,
            object_key: key.to_owned(),
            byte_offset: 0,
            byte_length: 10,
            record_count: 1,
        }
    }

    #[test]
    fn replacement_must_cover_a_contiguous_run() {
        let old = [seg(0, 9, "a"), seg(10, 19, "b")];
        assert!(valid_replacement(&old, &seg(0, 19, "m")));
        assert!(!valid_replacement(&old, &seg(0, 18, "m")));
        assert!(!valid_replacement(&old, &seg(1, 19, "m")));
        assert!(!valid_replacement(&[], &seg(0, 19, "m")));
        assert!(!valid_replacement(
            &[seg(0, 9, "a"), seg(11, 19, "b")],
            &seg(0, 19, "m")
        ));
        assert!(!valid_replacement(
            &[seg(0, i64::MAX, "a"), seg(i64::MIN, 0, "b")],
            &seg(0, 0, "m")
        ));
    }

    #[test]
    fn fenced_rolls_back_committed_only() {
        use CommitOutcome::*;
        let (out, commit) = settle_outcomes(vec![Committed, Fenced, AlreadyCommitted]);
        assert_eq!(out, vec![RolledBack, Fenced, AlreadyCommitted]);
        assert!(!commit);
        let (out, commit) = settle_outcomes(vec![Committed, AlreadyCommitted]);
        assert_eq!(out, vec![Committed, AlreadyCommitted]);
        assert!(commit);
    }

    #[test]
    fn commit_waves_keep_each_partitions_runs_in_order() {
        let t = Uuid::from_u128(1);
        let c = |p, base| PartitionCommit {
            lease: LeaseEpoch {
                topic_id: t,
                partition: p,
                epoch: 1,
            },
            segment: seg(base, base, "k"),
            producers: vec![],
        };
        let commits = [c(2, 0), c(1, 0), c(2, 1), c(0, 0)];
        assert_eq!(commit_waves(&commits), vec![vec![3, 1, 0], vec![2]]);
        assert!(commit_waves(&[]).is_empty());
    }

    #[test]
    fn topic_ids_avoid_a_leading_dash() {
        for _ in 0..1000 {
            assert_ne!(new_topic_id().as_bytes()[0] >> 2, 62);
        }
    }
}
