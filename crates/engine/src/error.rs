use streamhouse_records::BatchError;
use streamhouse_types::{Offset, TopicPartition};

/// Engine errors: what a protocol layer maps to its own error codes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such topic.
    #[error("unknown topic {0:?}")]
    UnknownTopic(String),
    /// The topic exists but not this partition.
    #[error("unknown partition {0}")]
    UnknownPartition(TopicPartition),
    /// A topic name that Kafka's rules reject.
    #[error("invalid topic: {0}")]
    InvalidTopic(String),
    /// The topic already exists.
    #[error("topic {0:?} already exists")]
    TopicExists(String),
    /// A partition count that is not allowed.
    #[error("invalid partition count: {0}")]
    InvalidPartitions(String),
    /// A topic config value that is not allowed.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    /// This agent does not lead the partition (or lost its lease meanwhile).
    #[error("this agent does not lead partition {0}")]
    NotLeader(TopicPartition),
    /// Requested offset outside the log; carries the valid range.
    #[error(
        "offset {offset} out of range for {tp}: valid offsets are {log_start_offset}..{high_watermark}"
    )]
    OffsetOutOfRange {
        /// The partition.
        tp: TopicPartition,
        /// The offset asked for.
        offset: Offset,
        /// First readable offset.
        log_start_offset: Offset,
        /// One past the last readable offset.
        high_watermark: Offset,
    },
    /// A batch failed validation (CRC, framing, magic).
    #[error("corrupt record batch for {tp}: {source}")]
    CorruptBatch {
        /// The partition.
        tp: TopicPartition,
        /// What was wrong.
        #[source]
        source: BatchError,
    },
    /// A batch of a kind not supported yet (transactional or control batches).
    #[error("unsupported record batch for {tp}: {reason}")]
    UnsupportedBatch {
        /// The partition.
        tp: TopicPartition,
        /// What is not supported.
        reason: &'static str,
    },
    /// A batch larger than the topic's `max.message.bytes` (or the agent's buffer).
    #[error("record batch of {size} bytes exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// The batch size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Producer epoch older than the one already seen.
    #[error("producer {producer_id} epoch {epoch} is fenced by epoch {current}")]
    InvalidProducerEpoch {
        /// Producer id.
        producer_id: i64,
        /// Epoch sent.
        epoch: i16,
        /// Epoch known.
        current: i16,
    },
    /// Sequence gap or reordering from an idempotent producer.
    #[error("out of order sequence {sequence} from producer {producer_id}; expected {expected}")]
    OutOfOrderSequence {
        /// Producer id.
        producer_id: i64,
        /// Sequence sent.
        sequence: i32,
        /// Sequence expected.
        expected: i32,
    },
    /// The engine is shutting down and accepts no new work.
    #[error("the engine is shutting down")]
    ShuttingDown,
    /// The metadata store failed.
    #[error(transparent)]
    Metadata(#[from] streamhouse_metadata::Error),
    /// The object store failed.
    #[error(transparent)]
    Storage(#[from] streamhouse_storage::Error),
    /// A stored object did not contain what the index promised.
    #[error("stored data for {tp} is corrupt: {reason}")]
    CorruptStorage {
        /// The partition.
        tp: TopicPartition,
        /// What was wrong.
        reason: String,
    },
}

/// Engine result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
