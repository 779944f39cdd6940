//! The conformance suite every [`MetadataStore`] must pass.
//!
//! Each function exercises one area against a store and panics (like a test assertion) on
//! the first behaviour that breaks the trait's contract. Names and ids are prefixed per
//! function, so the functions can share one store, and [`run_all`] runs them in turn.
//! Backends run them from their integration tests, one test per function.

mod flush;
mod groups;
mod leases;
mod segments;
mod topics;

pub use flush::{commit_flush_commits, commit_flush_fencing, commit_flush_wide, producer_ids};
pub use groups::{group_coordination, group_offsets};
pub use leases::{agents, lease_acquire_and_contend, lease_renew_and_release};
pub use segments::{advance_log_start, referenced_objects, replace_segments, segment_queries};
pub use topics::{add_partitions, delete_topic, topic_errors, topic_lifecycle};

use crate::{
    AgentInfo, CleanupPolicy, CommitOutcome, Error, GroupOffset, LeaseEpoch, MetadataStore,
    PartitionCommit, ProducerBatch, ProducerState, SegmentRef, StoredGroup, TimestampType, Topic,
    TopicConfig,
};
use streamhouse_types::{Offset, TimestampMs};
use uuid::Uuid;

/// The wall-clock time the suite pretends it is.
const NOW: TimestampMs = 1_700_000_000_000;
/// How long the leases the suite takes last.
const LEASE_MS: TimestampMs = 10_000;

/// Runs every conformance function against one store.
pub async fn run_all(store: &dyn MetadataStore) {
    topic_lifecycle(store).await;
    topic_errors(store).await;
    add_partitions(store).await;
    agents(store).await;
    lease_acquire_and_contend(store).await;
    lease_renew_and_release(store).await;
    commit_flush_commits(store).await;
    commit_flush_fencing(store).await;
    commit_flush_wide(store).await;
    segment_queries(store).await;
    advance_log_start(store).await;
    replace_segments(store).await;
    referenced_objects(store).await;
    producer_ids(store).await;
    group_offsets(store).await;
    group_coordination(store).await;
    delete_topic(store).await;
}

fn segment(base: Offset, last: Offset, max_timestamp: TimestampMs, key: &str) -> SegmentRef {
    SegmentRef {
        base_offset: base,
        last_offset: last,
        max_timestamp,
        object_key: key.to_owned(),
        byte_offset: base * 10,
        byte_length: (last - base + 1) * 10,
        record_count: last - base + 1,
    }
}

fn commit(lease: LeaseEpoch, segment: SegmentRef) -> PartitionCommit {
    PartitionCommit {
        lease,
        segment,
        producers: Vec::new(),
    }
}

fn producer(
    producer_id: i64,
    producer_epoch: i16,
    sequences: &[(i32, i32, Offset)],
) -> ProducerState {
    ProducerState {
        producer_id,
        producer_epoch,
        batches: sequences
            .iter()
            .map(
                |&(first_sequence, last_sequence, base_offset)| ProducerBatch {
                    first_sequence,
                    last_sequence,
                    base_offset,
                    timestamp: NOW + base_offset,
                },
            )
            .collect(),
    }
}

async fn create(store: &dyn MetadataStore, name: &str, partitions: i32) -> Topic {
    store
        .create_topic(name, partitions, &TopicConfig::default(), NOW)
        .await
        .expect("create_topic")
}

/// Takes the lease on `partition` for `agent` at `now`; panics if it is not granted.
async fn lease(
    store: &dyn MetadataStore,
    topic: &Topic,
    partition: i32,
    agent: &str,
    now: TimestampMs,
) -> LeaseEpoch {
    let (lease, _) = store
        .acquire_lease(topic.id, partition, agent, now, now + LEASE_MS)
        .await
        .expect("acquire_lease")
        .expect("lease should be granted");
    lease
}

/// Commits one run; panics unless it is committed.
async fn commit_ok(store: &dyn MetadataStore, lease: LeaseEpoch, segment: SegmentRef) {
    let outcome = store
        .commit_flush(&[commit(lease, segment)])
        .await
        .expect("commit_flush");
    assert_eq!(outcome, vec![CommitOutcome::Committed]);
}

async fn high_watermark(store: &dyn MetadataStore, topic: &Topic, partition: i32) -> Offset {
    store
        .partition(&topic.name, partition)
        .await
        .expect("partition")
        .expect("partition exists")
        .high_watermark
}

async fn all_segments(store: &dyn MetadataStore, topic: &Topic, partition: i32) -> Vec<SegmentRef> {
    store
        .segments(topic.id, partition, 0, usize::MAX)
        .await
        .expect("segments")
}

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}
