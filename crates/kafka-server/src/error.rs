//! The one map from engine errors to Kafka error codes.

use streamhouse_engine::Error;
use streamhouse_groups::GroupError;
use streamhouse_kafka_proto::ErrorCode;

/// The Kafka error code a client should see for an engine error.
pub fn to_error_code(error: &Error) -> ErrorCode {
    match error {
        Error::UnknownTopic(_) | Error::UnknownPartition(_) => ErrorCode::UnknownTopicOrPartition,
        Error::InvalidTopic(_) => ErrorCode::InvalidTopicException,
        Error::TopicExists(_) => ErrorCode::TopicAlreadyExists,
        Error::InvalidPartitions(_) => ErrorCode::InvalidPartitions,
        Error::InvalidConfig(_) => ErrorCode::InvalidConfig,
        // During shutdown too: the client refreshes metadata and retries elsewhere.
        Error::NotLeader(_) | Error::ShuttingDown => ErrorCode::NotLeaderOrFollower,
        Error::OffsetOutOfRange { .. } => ErrorCode::OffsetOutOfRange,
        Error::CorruptBatch { .. } => ErrorCode::CorruptMessage,
        Error::UnsupportedBatch { .. } => ErrorCode::InvalidRecord,
        Error::MessageTooLarge { .. } => ErrorCode::MessageTooLarge,
        Error::InvalidProducerEpoch { .. } => ErrorCode::InvalidProducerEpoch,
        Error::OutOfOrderSequence { .. } => ErrorCode::OutOfOrderSequenceNumber,
        Error::Metadata(_) | Error::Storage(_) | Error::CorruptStorage { .. } => {
            ErrorCode::KafkaStorageError
        }
    }
}

/// Kafka's name for an error a produce can answer (`MESSAGE_TOO_LARGE`), for metric
/// labels; `OTHER` for the rest, so the label stays bounded.
pub fn produce_error_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PARTITION",
        ErrorCode::InvalidTopicException => "INVALID_TOPIC_EXCEPTION",
        ErrorCode::NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
        ErrorCode::CorruptMessage => "CORRUPT_MESSAGE",
        ErrorCode::InvalidRecord => "INVALID_RECORD",
        ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
        ErrorCode::InvalidProducerEpoch => "INVALID_PRODUCER_EPOCH",
        ErrorCode::OutOfOrderSequenceNumber => "OUT_OF_ORDER_SEQUENCE_NUMBER",
        ErrorCode::KafkaStorageError => "KAFKA_STORAGE_ERROR",
        ErrorCode::RequestTimedOut => "REQUEST_TIMED_OUT",
        ErrorCode::InvalidRequiredAcks => "INVALID_REQUIRED_ACKS",
        ErrorCode::TransactionalIdAuthorizationFailed => "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
        _ => "OTHER",
    }
}

/// The error code of a result: 0 for success.
pub fn code_of<T>(result: &Result<T, Error>) -> i16 {
    match result {
        Ok(_) => 0,
        Err(error) => to_error_code(error).code(),
    }
}

/// Whether a client may retry after this error.
pub fn is_retriable(error: &Error) -> bool {
    to_error_code(error).is_retriable()
}

/// The Kafka error code for a group coordination error.
pub fn group_error_code(error: &GroupError) -> ErrorCode {
    match error {
        GroupError::NotCoordinator => ErrorCode::NotCoordinator,
        GroupError::CoordinatorNotAvailable(_) => ErrorCode::CoordinatorNotAvailable,
        GroupError::InvalidGroupId(_) => ErrorCode::InvalidGroupId,
        GroupError::InvalidSessionTimeout { .. } => ErrorCode::InvalidSessionTimeout,
        GroupError::InconsistentGroupProtocol => ErrorCode::InconsistentGroupProtocol,
        GroupError::UnknownMemberId => ErrorCode::UnknownMemberId,
        GroupError::MemberIdRequired(_) => ErrorCode::MemberIdRequired,
        GroupError::IllegalGeneration => ErrorCode::IllegalGeneration,
        GroupError::RebalanceInProgress => ErrorCode::RebalanceInProgress,
        GroupError::FencedInstanceId => ErrorCode::FencedInstanceId,
        GroupError::GroupMaxSizeReached(_) => ErrorCode::GroupMaxSizeReached,
        GroupError::GroupIdNotFound => ErrorCode::GroupIdNotFound,
        GroupError::NonEmptyGroup => ErrorCode::NonEmptyGroup,
        GroupError::GroupSubscribedToTopic => ErrorCode::GroupSubscribedToTopic,
        GroupError::UnknownTopicOrPartition => ErrorCode::UnknownTopicOrPartition,
        GroupError::OffsetMetadataTooLarge { .. } => ErrorCode::OffsetMetadataTooLarge,
    }
}

/// The error code of a group result: 0 for success.
pub fn group_code<T>(result: &Result<T, GroupError>) -> i16 {
    match result {
        Ok(_) => 0,
        Err(error) => group_error_code(error).code(),
    }
}
