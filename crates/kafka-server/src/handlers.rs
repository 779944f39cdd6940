//! One handler per Kafka API, and the dispatch from API key to handler.
//!
//! [`SUPPORTED`] is the single source of the versions StreamHouse implements: ApiVersions
//! advertises exactly it, and dispatch refuses anything outside it.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use streamhouse_kafka_proto::messages::{
    AlterConfigsRequest, ApiVersionsRequest, CreatePartitionsRequest, CreateTopicsRequest,
    DeleteRecordsRequest, DeleteTopicsRequest, DescribeClusterRequest, DescribeConfigsRequest,
    FetchRequest, FindCoordinatorRequest, IncrementalAlterConfigsRequest, InitProducerIdRequest,
    ListOffsetsRequest, MetadataRequest, ProduceRequest,
};
use streamhouse_kafka_proto::{ApiKey, RequestFrame, decode_body, encode_response};

use crate::connection::Closed;
use crate::listener::ServerContext;

pub mod alter_configs;
pub mod api_versions;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_cluster;
pub mod describe_configs;
pub mod fetch;
pub mod find_coordinator;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod list_offsets;
pub mod metadata;
pub mod produce;

/// `(api, min version, max version)` of every API served.
pub const SUPPORTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 9),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 6),
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
];

fn supported(api: ApiKey, version: i16) -> bool {
    SUPPORTED
        .iter()
        .any(|(key, min, max)| *key == api && (*min..=*max).contains(&version))
}

/// Decodes the body, runs the handler, encodes the response. `None` means "send nothing"
/// (Produce with acks=0).
pub(crate) async fn dispatch(
    context: &ServerContext,
    frame: RequestFrame,
) -> Result<Option<Bytes>, Closed> {
    let api = frame.api_key;
    let version = frame.header.request_api_version;
    let correlation_id = frame.header.correlation_id;
    if !supported(api, version) {
        if api == ApiKey::ApiVersions {
            // Kafka answers an ApiVersions it cannot parse at v0 with UNSUPPORTED_VERSION and
            // the list, so the client can pick a version both sides speak.
            let response = api_versions::unsupported();
            return encode(api, 0, correlation_id, &response).map(Some);
        }
        return Err(Closed::UnsupportedVersion { api, version });
    }
    macro_rules! handle {
        ($request:ty, $handler:path) => {{
            let request: $request = decode_body(&frame)?;
            let response = $handler(context, version, request).await;
            encode(api, version, correlation_id, &response).map(Some)
        }};
    }
    match api {
        ApiKey::ApiVersions => {
            let _: ApiVersionsRequest = decode_body(&frame)?;
            encode(api, version, correlation_id, &api_versions::response()).map(Some)
        }
        ApiKey::Metadata => handle!(MetadataRequest, metadata::handle),
        ApiKey::Produce => {
            let pending = submit_produce(context, frame).await?;
            pending.await
        }
        ApiKey::Fetch => handle!(FetchRequest, fetch::handle),
        ApiKey::ListOffsets => handle!(ListOffsetsRequest, list_offsets::handle),
        ApiKey::CreateTopics => handle!(CreateTopicsRequest, create_topics::handle),
        ApiKey::DeleteTopics => handle!(DeleteTopicsRequest, delete_topics::handle),
        ApiKey::InitProducerId => handle!(InitProducerIdRequest, init_producer_id::handle),
        ApiKey::CreatePartitions => handle!(CreatePartitionsRequest, create_partitions::handle),
        ApiKey::DeleteRecords => handle!(DeleteRecordsRequest, delete_records::handle),
        ApiKey::DescribeConfigs => handle!(DescribeConfigsRequest, describe_configs::handle),
        ApiKey::AlterConfigs => handle!(AlterConfigsRequest, alter_configs::handle),
        ApiKey::IncrementalAlterConfigs => handle!(
            IncrementalAlterConfigsRequest,
            incremental_alter_configs::handle
        ),
        ApiKey::DescribeCluster => handle!(DescribeClusterRequest, describe_cluster::handle),
        ApiKey::FindCoordinator => handle!(FindCoordinatorRequest, find_coordinator::handle),
        _ => Err(Closed::UnsupportedVersion { api, version }),
    }
}

/// A response still being produced.
pub(crate) type PendingResponse<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Bytes>, Closed>> + Send + 'a>>;

/// Produce, split: accepts the batches (assigning offsets) before returning, and returns
/// the future that waits for durability and encodes the response (`None` for acks=0).
pub(crate) async fn submit_produce(
    context: &ServerContext,
    frame: RequestFrame,
) -> Result<PendingResponse<'_>, Closed> {
    let api = frame.api_key;
    let version = frame.header.request_api_version;
    let correlation_id = frame.header.correlation_id;
    if !supported(api, version) {
        return Err(Closed::UnsupportedVersion { api, version });
    }
    let request: ProduceRequest = decode_body(&frame)?;
    let acks = request.acks;
    let durable = produce::submit(context, version, request).await;
    Ok(Box::pin(async move {
        let response = durable.await;
        if acks == 0 {
            return Ok(None);
        }
        encode(api, version, correlation_id, &response).map(Some)
    }))
}

fn encode<T: streamhouse_kafka_proto::Encodable>(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &T,
) -> Result<Bytes, Closed> {
    encode_response(api, version, correlation_id, body).map_err(Closed::Encode)
}
