use streamhouse_types::PartitionId;
use uuid::Uuid;

/// Metadata store errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A topic with this name already exists.
    #[error("topic {0:?} already exists")]
    TopicExists(String),
    /// No topic with this name.
    #[error("unknown topic {0:?}")]
    UnknownTopic(String),
    /// No such partition.
    #[error("unknown partition {partition} of topic {topic_id}")]
    UnknownPartition {
        /// The topic id.
        topic_id: Uuid,
        /// The partition index.
        partition: PartitionId,
    },
    /// A partition count that is not allowed here.
    #[error("invalid partition count {requested} for topic {topic:?}: {reason}")]
    InvalidPartitionCount {
        /// The topic.
        topic: String,
        /// What was asked for.
        requested: i32,
        /// Why it is refused.
        reason: String,
    },
    /// The caller's lease epoch is stale.
    #[error(
        "lease on partition {partition} of topic {topic_id} is no longer held at epoch {epoch}"
    )]
    Fenced {
        /// The topic id.
        topic_id: Uuid,
        /// The partition index.
        partition: PartitionId,
        /// The stale epoch.
        epoch: i32,
    },
    /// The caller no longer coordinates the group at this epoch: another claim bumped it, the
    /// group was deleted, or it was never claimed.
    #[error("coordination of group {group:?} is no longer held at epoch {epoch}")]
    GroupFenced {
        /// The group id.
        group: String,
        /// The stale epoch.
        epoch: i64,
    },
    /// The URL names no supported backend.
    #[error(
        "unsupported metadata URL {0:?}: expected sqlite://path, sqlite::memory: or postgres://..."
    )]
    UnsupportedUrl(String),
    /// A stored value could not be decoded.
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
    /// Schema migration failed.
    #[error("metadata schema migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed.
    #[error("metadata database error during {op}")]
    Database {
        /// What was being done.
        op: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
}

impl Error {
    /// Whether retrying the same call may succeed (connection trouble, lock timeouts).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database { source, .. } => matches!(
                source,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
                    | sqlx::Error::Database(_)
            ),
            _ => false,
        }
    }
}

/// Metadata store result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
