//! Domain vocabulary shared by every StreamHouse layer.
//!
//! This is the bottom layer: it has no I/O and depends on nothing but `serde`.
//! Everything above (records, metadata, storage, engine, protocol servers) speaks
//! in these types.
//!
//! ```
//! use streamhouse_types::{TopicPartition, Clock, SystemClock};
//! let tp = TopicPartition::new("orders", 3);
//! assert_eq!(tp.to_string(), "orders-3");
//! assert!(SystemClock.now_ms() > 0);
//! ```
#![warn(missing_docs)]

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

/// A Kafka offset: the position of a record within one partition.
pub type Offset = i64;

/// A Kafka partition index within a topic.
pub type PartitionId = i32;

/// Milliseconds since the Unix epoch (Kafka's timestamp unit).
pub type TimestampMs = i64;

/// A topic name plus partition index: the unit of ordering, leadership and storage.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TopicPartition {
    /// Topic name. Shared, because the same name is held by many partitions and requests.
    pub topic: Arc<str>,
    /// Partition index, `0..partition_count`.
    pub partition: PartitionId,
}

impl TopicPartition {
    /// A topic-partition from a name and an index.
    pub fn new(topic: impl Into<Arc<str>>, partition: PartitionId) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// An idempotent producer's identity: id and epoch, as assigned by InitProducerId.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProducerId {
    /// The producer id; `-1` means "not idempotent".
    pub id: i64,
    /// The producer epoch; bumped to fence older instances of the same producer.
    pub epoch: i16,
}

impl ProducerId {
    /// Kafka's marker for "no producer id".
    pub const NONE: i64 = -1;
}

/// A source of wall-clock time, injectable so that retention, leases and GC are testable.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> TimestampMs;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> TimestampMs {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A manual clock reading `now_ms`.
    pub fn new(now_ms: TimestampMs) -> Self {
        Self(AtomicI64::new(now_ms))
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to `now_ms`.
    pub fn set(&self, now_ms: TimestampMs) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> TimestampMs {
        self.0.load(Ordering::SeqCst)
    }
}

/// Checks a topic name against Kafka's rules: 1..=249 characters of `[a-zA-Z0-9._-]`,
/// and not `.` or `..`.
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("topic name is empty".into());
    }
    if name == "." || name == ".." {
        return Err(format!("topic name cannot be {name:?}"));
    }
    if name.len() > 249 {
        return Err(format!(
            "topic name is {} characters long; the maximum is 249",
            name.len()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "topic name {name:?} contains {bad:?}; only ASCII letters, digits, '.', '_' and '-' are allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(validate_topic_name("orders.v1_eu-west").is_ok());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name(".").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(validate_topic_name("a b").is_err());
        assert!(validate_topic_name("ü").is_err());
        assert!(validate_topic_name(&"x".repeat(249)).is_ok());
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(500);
        assert_eq!(clock.now_ms(), 1_500);
        clock.set(10);
        assert_eq!(clock.now_ms(), 10);
    }
}
