//! The requests StreamHouse implements, at the versions it implements, as one enum.
//!
//! [`SUPPORTED`] is the single source of truth: ApiVersions advertises exactly it, and
//! [`decode_request`] refuses anything outside it.

use kafka_protocol::messages::{
    AlterConfigsRequest, ApiKey, ApiVersionsRequest, CreatePartitionsRequest, CreateTopicsRequest,
    DeleteGroupsRequest, DeleteRecordsRequest, DeleteTopicsRequest, DescribeClusterRequest,
    DescribeConfigsRequest, DescribeGroupsRequest, FetchRequest, FindCoordinatorRequest,
    HeartbeatRequest, IncrementalAlterConfigsRequest, InitProducerIdRequest, JoinGroupRequest,
    LeaveGroupRequest, ListGroupsRequest, ListOffsetsRequest, MetadataRequest, OffsetCommitRequest,
    OffsetDeleteRequest, OffsetFetchRequest, ProduceRequest, SyncGroupRequest,
};

use crate::codec::{DecodeError, RequestFrame, decode_body};

/// `(api, min version, max version)` of every API StreamHouse serves.
pub const SUPPORTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 9),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 7),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 5),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::DeleteRecords, 0, 2),
    (ApiKey::DescribeConfigs, 0, 4),
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::DescribeCluster, 0, 1),
    (ApiKey::FindCoordinator, 0, 4),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    // v9 of both carries KIP-848 member epochs, which the classic protocol has not.
    (ApiKey::OffsetCommit, 0, 8),
    (ApiKey::OffsetFetch, 0, 8),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::OffsetDelete, 0, 0),
];

/// The API's name as Kafka spells it (`Produce`, `JoinGroup`), for logs and metric labels;
/// `Other` for APIs StreamHouse does not serve.
pub fn api_name(api: ApiKey) -> &'static str {
    match api {
        ApiKey::Produce => "Produce",
        ApiKey::Fetch => "Fetch",
        ApiKey::ListOffsets => "ListOffsets",
        ApiKey::Metadata => "Metadata",
        ApiKey::ApiVersions => "ApiVersions",
        ApiKey::CreateTopics => "CreateTopics",
        ApiKey::DeleteTopics => "DeleteTopics",
        ApiKey::InitProducerId => "InitProducerId",
        ApiKey::CreatePartitions => "CreatePartitions",
        ApiKey::DeleteRecords => "DeleteRecords",
        ApiKey::DescribeConfigs => "DescribeConfigs",
        ApiKey::AlterConfigs => "AlterConfigs",
        ApiKey::IncrementalAlterConfigs => "IncrementalAlterConfigs",
        ApiKey::DescribeCluster => "DescribeCluster",
        ApiKey::FindCoordinator => "FindCoordinator",
        ApiKey::JoinGroup => "JoinGroup",
        ApiKey::SyncGroup => "SyncGroup",
        ApiKey::Heartbeat => "Heartbeat",
        ApiKey::LeaveGroup => "LeaveGroup",
        ApiKey::OffsetCommit => "OffsetCommit",
        ApiKey::OffsetFetch => "OffsetFetch",
        ApiKey::ListGroups => "ListGroups",
        ApiKey::DescribeGroups => "DescribeGroups",
        ApiKey::DeleteGroups => "DeleteGroups",
        ApiKey::OffsetDelete => "OffsetDelete",
        _ => "Other",
    }
}

/// Whether `version` of `api` is served.
pub fn is_supported(api: ApiKey, version: i16) -> bool {
    SUPPORTED
        .iter()
        .any(|(key, min, max)| *key == api && (*min..=*max).contains(&version))
}

/// A decoded request of a supported API.
#[derive(Debug, Clone)]
#[allow(missing_docs)] // each variant is the Kafka API of the same name
pub enum Request {
    Produce(ProduceRequest),
    Fetch(FetchRequest),
    ListOffsets(ListOffsetsRequest),
    Metadata(MetadataRequest),
    ApiVersions(ApiVersionsRequest),
    CreateTopics(CreateTopicsRequest),
    DeleteTopics(DeleteTopicsRequest),
    InitProducerId(InitProducerIdRequest),
    CreatePartitions(CreatePartitionsRequest),
    DeleteRecords(DeleteRecordsRequest),
    DescribeConfigs(DescribeConfigsRequest),
    AlterConfigs(AlterConfigsRequest),
    IncrementalAlterConfigs(IncrementalAlterConfigsRequest),
    DescribeCluster(DescribeClusterRequest),
    FindCoordinator(FindCoordinatorRequest),
    JoinGroup(JoinGroupRequest),
    SyncGroup(SyncGroupRequest),
    Heartbeat(HeartbeatRequest),
    LeaveGroup(LeaveGroupRequest),
    OffsetCommit(OffsetCommitRequest),
    OffsetFetch(OffsetFetchRequest),
    ListGroups(ListGroupsRequest),
    DescribeGroups(DescribeGroupsRequest),
    DeleteGroups(DeleteGroupsRequest),
    OffsetDelete(OffsetDeleteRequest),
}

/// Decodes the body of a frame whose API and version are supported.
pub fn decode_request(frame: &RequestFrame) -> Result<Request, DecodeError> {
    let api = frame.api_key;
    let version = frame.header.request_api_version;
    if !is_supported(api, version) {
        return Err(DecodeError::Unsupported { api, version });
    }
    Ok(match api {
        ApiKey::Produce => Request::Produce(decode_body(frame)?),
        ApiKey::Fetch => Request::Fetch(decode_body(frame)?),
        ApiKey::ListOffsets => Request::ListOffsets(decode_body(frame)?),
        ApiKey::Metadata => Request::Metadata(decode_body(frame)?),
        ApiKey::ApiVersions => Request::ApiVersions(decode_body(frame)?),
        ApiKey::CreateTopics => Request::CreateTopics(decode_body(frame)?),
        ApiKey::DeleteTopics => Request::DeleteTopics(decode_body(frame)?),
        ApiKey::InitProducerId => Request::InitProducerId(decode_body(frame)?),
        ApiKey::CreatePartitions => Request::CreatePartitions(decode_body(frame)?),
        ApiKey::DeleteRecords => Request::DeleteRecords(decode_body(frame)?),
        ApiKey::DescribeConfigs => Request::DescribeConfigs(decode_body(frame)?),
        ApiKey::AlterConfigs => Request::AlterConfigs(decode_body(frame)?),
        ApiKey::IncrementalAlterConfigs => Request::IncrementalAlterConfigs(decode_body(frame)?),
        ApiKey::DescribeCluster => Request::DescribeCluster(decode_body(frame)?),
        ApiKey::FindCoordinator => Request::FindCoordinator(decode_body(frame)?),
        ApiKey::JoinGroup => Request::JoinGroup(decode_body(frame)?),
        ApiKey::SyncGroup => Request::SyncGroup(decode_body(frame)?),
        ApiKey::Heartbeat => Request::Heartbeat(decode_body(frame)?),
        ApiKey::LeaveGroup => Request::LeaveGroup(decode_body(frame)?),
        ApiKey::OffsetCommit => Request::OffsetCommit(decode_body(frame)?),
        ApiKey::OffsetFetch => Request::OffsetFetch(decode_body(frame)?),
        ApiKey::ListGroups => Request::ListGroups(decode_body(frame)?),
        ApiKey::DescribeGroups => Request::DescribeGroups(decode_body(frame)?),
        ApiKey::DeleteGroups => Request::DeleteGroups(decode_body(frame)?),
        ApiKey::OffsetDelete => Request::OffsetDelete(decode_body(frame)?),
        _ => return Err(DecodeError::Unsupported { api, version }),
    })
}
