//! ApiVersions: exactly the versions [`streamhouse_kafka_proto::SUPPORTED`] lists.

use streamhouse_kafka_proto::ErrorCode;
use streamhouse_kafka_proto::messages::ApiVersionsResponse;
use streamhouse_kafka_proto::messages::api_versions_response::ApiVersion;

use streamhouse_kafka_proto::SUPPORTED;

fn api_keys() -> Vec<ApiVersion> {
    SUPPORTED
        .iter()
        .map(|(key, min, max)| {
            ApiVersion::default()
                .with_api_key(*key as i16)
                .with_min_version(*min)
                .with_max_version(*max)
        })
        .collect()
}

/// The normal answer.
pub(crate) fn response() -> ApiVersionsResponse {
    ApiVersionsResponse::default().with_api_keys(api_keys())
}

/// The answer to an ApiVersions request at a version we do not speak (sent as v0).
pub(crate) fn unsupported() -> ApiVersionsResponse {
    response().with_error_code(ErrorCode::UnsupportedVersion.code())
}
