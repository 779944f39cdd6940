//! The StreamHouse metadata store.
//!
//! Layer: below the engine, beside storage. Every piece of coordination lives here —
//! topics and their configs, partition bounds (log start offset, high watermark),
//! the segment index that maps offsets to byte ranges of objects, agents and partition
//! leases (with epochs that fence stale writers), consumer groups (each group's coordinator,
//! its coordinator epoch, which fences stale coordinators, and its state, opaque to the store)
//! and their committed offsets, and idempotent producer state. Records themselves never pass
//! through it.
//!
//! One trait, [`MetadataStore`], two implementations chosen by URL at runtime:
//! SQLite (`sqlite://path`, `sqlite::memory:`) for embedded nodes and PostgreSQL
//! (`postgres://...`) for clusters. Both run the same [`conformance`] suite.
//!
//! ```no_run
//! # async fn demo() -> streamhouse_metadata::Result<()> {
//! use streamhouse_metadata::{connect, TopicConfig};
//! let store = connect("sqlite::memory:", 4).await?;
//! let topic = store.create_topic("orders", 3, &TopicConfig::default(), 0).await?;
//! assert_eq!(topic.partition_count, 3);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use streamhouse_types::{Offset, PartitionId, TimestampMs};
use uuid::Uuid;

mod common_impl;
pub mod conformance;
mod error;
mod model;
mod postgres;
mod shared;
mod sqlite;

pub use error::{Error, Result};
pub use model::*;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Opens the store a URL names and brings its schema up to date.
///
/// `sqlite://path/to/file.db` (created if missing), `sqlite::memory:`, or
/// `postgres://user@host:port/db`.
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn MetadataStore>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, max_connections).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            PostgresStore::connect(url, max_connections).await?,
        ))
    } else {
        Err(Error::UnsupportedUrl(url.to_owned()))
    }
}

/// Persistence for everything StreamHouse coordinates. Implementations must be safe for
/// many agents at once: every write that depends on leadership is fenced by a lease epoch.
#[async_trait]
pub trait MetadataStore: Send + Sync + fmt::Debug {
    /// Which backend this is (`"sqlite"`, `"postgres"`), for logs and health checks.
    fn backend(&self) -> &'static str;

    /// Cheap round trip, for readiness checks.
    async fn ping(&self) -> Result<()>;

    // ----- topics -----

    /// Creates a topic and its partitions (log start 0, high watermark 0, no leader).
    /// Fails with [`Error::TopicExists`] if the name is taken.
    async fn create_topic(
        &self,
        name: &str,
        partition_count: i32,
        config: &TopicConfig,
        now_ms: TimestampMs,
    ) -> Result<Topic>;

    /// The topic with this name, if any.
    async fn get_topic(&self, name: &str) -> Result<Option<Topic>>;

    /// All topics, ordered by name.
    async fn list_topics(&self) -> Result<Vec<Topic>>;

    /// Replaces a topic's configuration. [`Error::UnknownTopic`] if it does not exist.
    async fn update_topic_config(&self, name: &str, config: &TopicConfig) -> Result<()>;

    /// Grows a topic to `new_count` partitions. [`Error::InvalidPartitionCount`] unless
    /// `new_count` is larger than the current count.
    async fn add_partitions(&self, name: &str, new_count: i32) -> Result<Topic>;

    /// Deletes a topic with its partitions, segment rows and producer state (its objects
    /// become unreferenced, for the garbage collector). Returns what was deleted.
    async fn delete_topic(&self, name: &str) -> Result<Topic>;

    // ----- partitions -----

    /// One partition's state.
    async fn partition(
        &self,
        topic: &str,
        partition: PartitionId,
    ) -> Result<Option<PartitionState>>;

    /// Every partition of `topic`, or of all topics when `None`, ordered by topic and index.
    async fn partitions(&self, topic: Option<&str>) -> Result<Vec<PartitionState>>;

    // ----- agents and leases -----

    /// Registers (or re-registers) an agent.
    async fn register_agent(&self, agent: &AgentInfo) -> Result<()>;

    /// Records a heartbeat. Returns false if the agent is not registered.
    async fn heartbeat_agent(&self, agent_id: &str, now_ms: TimestampMs) -> Result<bool>;

    /// Removes an agent (its leases stay until released or expired).
    async fn deregister_agent(&self, agent_id: &str) -> Result<()>;

    /// All registered agents, ordered by id.
    async fn list_agents(&self) -> Result<Vec<AgentInfo>>;

    /// Takes the lease on a partition if it has no holder, its lease has expired, or
    /// `agent_id` already holds it. Every grant bumps the epoch, so a previous holder (even
    /// an earlier incarnation of the same agent) is fenced. Returns the new lease and the
    /// partition's state, or `None` if another agent holds a live lease. A lease counts as
    /// expired once `now_ms >= lease_expires_at_ms`. [`Error::UnknownPartition`] if the
    /// partition does not exist.
    async fn acquire_lease(
        &self,
        topic_id: Uuid,
        partition: PartitionId,
        agent_id: &str,
        now_ms: TimestampMs,
        expires_at_ms: TimestampMs,
    ) -> Result<Option<(LeaseEpoch, PartitionState)>>;

    /// Extends the leases `agent_id` still holds at the given epochs. Returns the ones
    /// renewed; a lease missing from the result has been lost.
    async fn renew_leases(
        &self,
        agent_id: &str,
        leases: &[LeaseEpoch],
        expires_at_ms: TimestampMs,
    ) -> Result<Vec<LeaseEpoch>>;

    /// Gives a lease up so another agent can take it at once. A no-op if it is not held
    /// at that epoch.
    async fn release_lease(&self, agent_id: &str, lease: LeaseEpoch) -> Result<()>;

    // ----- the segment index -----

    /// Records one flush in one transaction: for each partition, the segment row, the
    /// producer states, and the high watermark advanced to `segment.last_offset + 1`.
    ///
    /// Each partition is fenced: its lease epoch must be current and `segment.base_offset`
    /// must equal its high watermark. If any partition is fenced, **nothing** is recorded:
    /// the result marks fenced partitions [`CommitOutcome::Fenced`] and the others
    /// [`CommitOutcome::RolledBack`], and the caller retries without the fenced ones.
    /// A retry of a commit that already succeeded (a row at the same base offset with the
    /// same object key exists) reports [`CommitOutcome::AlreadyCommitted`], even when other
    /// partitions of the call are fenced, since the earlier call recorded it. The outcomes are
    /// in the order of `commits`. A commit whose `last_offset` is below its `base_offset` is
    /// refused with [`Error::Corrupt`], recording nothing.
    async fn commit_flush(&self, commits: &[PartitionCommit]) -> Result<Vec<CommitOutcome>>;

    /// Segment rows of a partition that contain offsets at or after `from_offset`, ordered by
    /// base offset, at most `limit`.
    async fn segments(
        &self,
        topic_id: Uuid,
        partition: PartitionId,
        from_offset: Offset,
        limit: usize,
    ) -> Result<Vec<SegmentRef>>;

    /// Bytes of stored batches per partition (the sum of its segment rows' lengths), for
    /// every partition that has any, of one topic or of all.
    async fn partition_sizes(&self, topic_id: Option<Uuid>) -> Result<Vec<PartitionSize>>;

    /// The first segment row (by offset) at or after the log start whose max timestamp is
    /// at least `timestamp` — where a search for that timestamp starts.
    async fn segment_for_timestamp(
        &self,
        topic_id: Uuid,
        partition: PartitionId,
        timestamp: TimestampMs,
    ) -> Result<Option<SegmentRef>>;

    /// Moves the log start offset forward to `new_log_start` (clamped to the high watermark;
    /// never backwards) and drops segment rows that end before it. Fenced by the lease:
    /// [`Error::Fenced`] if its epoch is stale, [`Error::UnknownPartition`] if the partition
    /// is gone. Returns the resulting log start offset.
    async fn advance_log_start(&self, lease: LeaseEpoch, new_log_start: Offset) -> Result<Offset>;

    /// Replaces the rows `old` (which must still exist exactly, contiguous) with the single
    /// row `new` covering the same offsets — the merge job's commit. Fenced by the lease, as
    /// [`MetadataStore::advance_log_start`] is.
    /// Returns false, changing nothing, if the rows changed meanwhile (or `old` is empty, not
    /// contiguous, or not covered exactly by `new`).
    async fn replace_segments(
        &self,
        lease: LeaseEpoch,
        old: &[SegmentRef],
        new: &SegmentRef,
    ) -> Result<bool>;

    /// Which of `keys` some segment row still references.
    async fn referenced_objects(&self, keys: &[String]) -> Result<HashSet<String>>;

    // ----- idempotent producers -----

    /// Allocates a fresh producer id, unique across the cluster.
    async fn allocate_producer_id(&self) -> Result<i64>;

    /// The producer states recorded for a partition (loaded by a new leader).
    async fn producer_states(
        &self,
        topic_id: Uuid,
        partition: PartitionId,
    ) -> Result<Vec<ProducerState>>;

    // ----- consumer groups -----
    //
    // A group coordinator claims a group, which bumps the group's coordinator epoch, and then
    // does every write on the group's behalf (its state, its offsets) at that epoch. A write
    // at any other epoch fails with `Error::GroupFenced` and changes nothing, so a coordinator
    // that another agent has taken the group from cannot overwrite its successor's work.

    /// Takes over coordination of `group` for `agent`: creates the group's record (with no
    /// state) if there is none, and in any case sets its coordinator to `agent` and bumps its
    /// epoch, fencing every earlier claim (even an earlier one by the same agent). Returns the
    /// record as changed, with the state stored so far. Concurrent claims get different
    /// epochs. Epochs are never reused for a group id, not even after
    /// [`MetadataStore::delete_group`]: the first claim of a new id gets epoch 1, and the
    /// first claim after a delete continues from the deleted record's epoch.
    async fn claim_group(
        &self,
        group: &str,
        agent: &str,
        now_ms: TimestampMs,
    ) -> Result<StoredGroup>;

    /// Replaces the state of `group`, fenced by `epoch`: [`Error::GroupFenced`] (storing
    /// nothing) unless the group's coordinator epoch is still `epoch`.
    async fn store_group(
        &self,
        group: &str,
        epoch: i64,
        state: &str,
        now_ms: TimestampMs,
    ) -> Result<()>;

    /// The record of `group`, if it has been claimed (and not deleted), without claiming it.
    async fn load_group(&self, group: &str) -> Result<Option<StoredGroup>>;

    /// Every group record, ordered by group id.
    async fn list_groups(&self) -> Result<Vec<StoredGroup>>;

    /// Deletes `group`'s record and all its committed offsets in one transaction, fenced by
    /// `epoch`: [`Error::GroupFenced`] (deleting nothing) unless the group's coordinator epoch
    /// is still `epoch`.
    async fn delete_group(&self, group: &str, epoch: i64) -> Result<()>;

    /// Upserts committed offsets for a group, all in one transaction, fenced by `epoch`:
    /// [`Error::GroupFenced`] (writing nothing) unless the group's coordinator epoch is still
    /// `epoch`. The check is made even when `offsets` is empty.
    async fn commit_group_offsets(
        &self,
        group: &str,
        epoch: i64,
        offsets: &[GroupOffset],
    ) -> Result<()>;

    /// A group's committed offsets, ordered by topic and partition.
    async fn group_offsets(&self, group: &str) -> Result<Vec<GroupOffset>>;

    /// Deletes a group's offsets: all of them, or only for the given topic-partitions.
    /// Returns how many were deleted. Fenced by `epoch` as
    /// [`MetadataStore::commit_group_offsets`] is.
    async fn delete_group_offsets(
        &self,
        group: &str,
        epoch: i64,
        partitions: Option<&[(String, PartitionId)]>,
    ) -> Result<u64>;

    /// Deletes a group's offsets committed before `committed_before_ms` (by their commit
    /// timestamp) and returns how many. Fenced by `epoch` as
    /// [`MetadataStore::commit_group_offsets`] is.
    async fn expire_group_offsets(
        &self,
        group: &str,
        epoch: i64,
        committed_before_ms: TimestampMs,
    ) -> Result<u64>;

    /// Ids of all groups that have committed offsets, ordered.
    async fn groups_with_offsets(&self) -> Result<Vec<String>>;
}
