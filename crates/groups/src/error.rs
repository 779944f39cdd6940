//! What can go wrong in group coordination, one variant per Kafka error a client acts on.

/// A group operation's failure. Each variant is the Kafka error of the same name; the
/// Kafka listener maps them one to one, the REST API to HTTP statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// Another agent coordinates this group; ask FindCoordinator again.
    #[error("this agent does not coordinate the group")]
    NotCoordinator,
    /// The coordinator cannot serve the group right now (metadata store unreachable,
    /// agent shutting down); retriable.
    #[error("the group coordinator is not available: {0}")]
    CoordinatorNotAvailable(String),
    /// The group id is empty.
    #[error("invalid group id {0:?}")]
    InvalidGroupId(String),
    /// The session timeout is outside `groups.min_session_timeout..=max_session_timeout`.
    #[error("session timeout {requested_ms}ms is outside {min_ms}..={max_ms}ms")]
    InvalidSessionTimeout {
        /// What the member asked for.
        requested_ms: i32,
        /// The smallest allowed.
        min_ms: i64,
        /// The largest allowed.
        max_ms: i64,
    },
    /// The member's protocol type or protocols do not match the group's.
    #[error("the member's protocols are incompatible with the group's")]
    InconsistentGroupProtocol,
    /// The member id is not (or no longer) in the group.
    #[error("unknown member id")]
    UnknownMemberId,
    /// A new member must rejoin with the member id it is given (JoinGroup v4+).
    #[error("rejoin with member id {0}")]
    MemberIdRequired(String),
    /// The request names a generation other than the group's current one.
    #[error("illegal generation")]
    IllegalGeneration,
    /// The group is rebalancing; rejoin.
    #[error("the group is rebalancing")]
    RebalanceInProgress,
    /// Another member with the same `group.instance.id` replaced this one.
    #[error("fenced by a newer member with the same group.instance.id")]
    FencedInstanceId,
    /// The group already has `groups.max_size` members.
    #[error("the group has reached its maximum size of {0} members")]
    GroupMaxSizeReached(u32),
    /// No such group.
    #[error("group not found")]
    GroupIdNotFound,
    /// The group still has members.
    #[error("the group has active members")]
    NonEmptyGroup,
    /// The group's members are subscribed to the topic whose offsets were to be deleted.
    #[error("the group is subscribed to the topic")]
    GroupSubscribedToTopic,
    /// The topic or partition does not exist.
    #[error("unknown topic or partition")]
    UnknownTopicOrPartition,
    /// The commit's metadata string is longer than `groups.offset_metadata_max_bytes`.
    #[error("offset metadata of {len} bytes exceeds the limit of {max} bytes")]
    OffsetMetadataTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: u64,
    },
}

impl GroupError {
    pub(crate) fn storage(error: &streamhouse_metadata::Error) -> Self {
        Self::CoordinatorNotAvailable(format!("metadata store: {error}"))
    }
}
