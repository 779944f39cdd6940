//! The one error shape of the API: `{"error_code": "...", "message": "..."}` with the
//! HTTP status that fits, mapped from engine and group errors in one place.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use streamhouse_engine::Error as EngineError;
use streamhouse_groups::GroupError;

/// An API error: a status, a stable machine-readable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Stable, snake_case, for scripts.
    pub error_code: &'static str,
    /// For people.
    pub message: String,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, snake_case error code, e.g. `unknown_topic`.
    pub error_code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, error_code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error_code,
            message: message.into(),
        }
    }

    /// 400: the request itself is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 422: well-formed but invalid values.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
    }

    /// 404 for a route or resource that does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, code = self.error_code, message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error_code: self.error_code.to_owned(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let message = error.to_string();
        let (status, code) = match &error {
            EngineError::UnknownTopic(_) => (StatusCode::NOT_FOUND, "unknown_topic"),
            EngineError::UnknownPartition(_) => (StatusCode::NOT_FOUND, "unknown_partition"),
            EngineError::InvalidTopic(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_topic"),
            EngineError::TopicExists(_) => (StatusCode::CONFLICT, "topic_exists"),
            EngineError::InvalidPartitions(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_partitions")
            }
            EngineError::InvalidConfig(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_config"),
            EngineError::OffsetOutOfRange { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "offset_out_of_range")
            }
            EngineError::MessageTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "message_too_large")
            }
            EngineError::CorruptBatch { .. } | EngineError::UnsupportedBatch { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_records")
            }
            EngineError::NotLeader(_) | EngineError::ShuttingDown => {
                (StatusCode::SERVICE_UNAVAILABLE, "not_leader")
            }
            EngineError::InvalidProducerEpoch { .. } | EngineError::OutOfOrderSequence { .. } => {
                (StatusCode::CONFLICT, "producer_fenced")
            }
            EngineError::Metadata(_) | EngineError::Storage(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable")
            }
            EngineError::CorruptStorage { .. } => {
                (StatusCode::INTERNAL_SERVER_ERROR, "corrupt_storage")
            }
        };
        Self::new(status, code, message)
    }
}

impl From<GroupError> for ApiError {
    fn from(error: GroupError) -> Self {
        let message = error.to_string();
        let (status, code) = match &error {
            GroupError::GroupIdNotFound => (StatusCode::NOT_FOUND, "unknown_group"),
            GroupError::InvalidGroupId(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_group_id"),
            GroupError::NonEmptyGroup | GroupError::UnknownMemberId => {
                (StatusCode::CONFLICT, "group_has_active_members")
            }
            GroupError::UnknownTopicOrPartition => (StatusCode::NOT_FOUND, "unknown_topic"),
            GroupError::OffsetMetadataTooLarge { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "metadata_too_large")
            }
            GroupError::NotCoordinator | GroupError::CoordinatorNotAvailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "coordinator_unavailable")
            }
            _ => (StatusCode::CONFLICT, "group_conflict"),
        };
        Self::new(status, code, message)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            "unsupported_media_type"
        } else if status == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else {
            "bad_request"
        };
        // JSON that parses but has the wrong shape is 422 in axum; a request whose body
        // is not JSON at all is 400. Both name the problem.
        Self::new(status, code, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}
