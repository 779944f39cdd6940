//! One handler per Kafka API, and the dispatch from decoded request to handler.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use bytes::Bytes;
use streamhouse_kafka_proto::{
    ApiKey, DecodeError, Request, RequestFrame, decode_request, encode_fetch_response,
    encode_response,
};

use crate::connection::Closed;
use crate::listener::ServerContext;

pub mod alter_configs;
pub mod api_versions;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_groups;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;
pub mod produce;
pub mod sync_group;

/// Who sent a request, as group membership records it.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The client's `client.id`.
    pub(crate) client_id: String,
    /// The client's address, written as Kafka does (`/127.0.0.1`).
    pub(crate) host: String,
}

/// One encoded response frame: buffers to write in order. Most responses are one buffer;
/// a Fetch response leaves its record batches in the buffers they were read from.
pub(crate) type Encoded = Vec<Bytes>;

/// A response still being produced.
pub(crate) type PendingResponse<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Encoded>, Closed>> + Send + 'a>>;

/// Decodes the body, runs the handler, encodes the response. `None` means "send nothing"
/// (Produce with acks=0). Versions outside [`streamhouse_kafka_proto::SUPPORTED`] close
/// the connection, as Kafka does, except ApiVersions.
pub(crate) async fn dispatch(
    context: &ServerContext,
    peer: std::net::SocketAddr,
    frame: RequestFrame,
) -> Result<Option<Encoded>, Closed> {
    let api = frame.api_key;
    let version = frame.header.request_api_version;
    let correlation_id = frame.header.correlation_id;
    let request = match decode_request(&frame) {
        Ok(request) => request,
        Err(DecodeError::Unsupported { .. }) if api == ApiKey::ApiVersions => {
            // Kafka answers an ApiVersions it cannot parse at v0 with UNSUPPORTED_VERSION and
            // the list, so the client can pick a version both sides speak.
            return encode(api, 0, correlation_id, &api_versions::unsupported()).map(Some);
        }
        Err(error) => return Err(error.into()),
    };
    macro_rules! answer {
        ($handler:path, $request:expr) => {{
            let response = $handler(context, version, $request).await;
            encode(api, version, correlation_id, &response).map(Some)
        }};
    }
    match request {
        Request::ApiVersions(_) => {
            encode(api, version, correlation_id, &api_versions::response()).map(Some)
        }
        Request::Produce(request) => {
            let parts = produce::Parts::new(request, frame.body.clone());
            produce_pending(context, version, correlation_id, parts)
                .await
                .await
        }
        Request::Metadata(r) => answer!(metadata::handle, r),
        Request::Fetch(r) => {
            let fetched = fetch::handle(context, version, r).await;
            encode_fetch_response(version, correlation_id, &fetched.response, &fetched.records)
                .map_err(Closed::Encode)
                .map(Some)
        }
        Request::ListOffsets(r) => answer!(list_offsets::handle, r),
        Request::CreateTopics(r) => answer!(create_topics::handle, r),
        Request::DeleteTopics(r) => answer!(delete_topics::handle, r),
        Request::InitProducerId(r) => answer!(init_producer_id::handle, r),
        Request::CreatePartitions(r) => answer!(create_partitions::handle, r),
        Request::DeleteRecords(r) => answer!(delete_records::handle, r),
        Request::DescribeConfigs(r) => answer!(describe_configs::handle, r),
        Request::AlterConfigs(r) => answer!(alter_configs::handle, r),
        Request::IncrementalAlterConfigs(r) => answer!(incremental_alter_configs::handle, r),
        Request::DescribeCluster(r) => answer!(describe_cluster::handle, r),
        Request::FindCoordinator(r) => answer!(find_coordinator::handle, r),
        Request::JoinGroup(r) => {
            let caller = Caller {
                client_id: frame
                    .header
                    .client_id
                    .as_deref()
                    .unwrap_or_default()
                    .to_owned(),
                host: format!("/{}", peer.ip()),
            };
            let response = join_group::handle(context, version, &caller, r).await;
            encode(api, version, correlation_id, &response).map(Some)
        }
        Request::SyncGroup(r) => answer!(sync_group::handle, r),
        Request::Heartbeat(r) => answer!(heartbeat::handle, r),
        Request::LeaveGroup(r) => answer!(leave_group::handle, r),
        Request::OffsetCommit(r) => answer!(offset_commit::handle, r),
        Request::OffsetFetch(r) => answer!(offset_fetch::handle, r),
        Request::ListGroups(r) => answer!(list_groups::handle, r),
        Request::DescribeGroups(r) => answer!(describe_groups::handle, r),
        Request::DeleteGroups(r) => answer!(delete_groups::handle, r),
        Request::OffsetDelete(r) => answer!(offset_delete::handle, r),
    }
}

/// Produce, split: accepts the batches (assigning offsets) before returning, and returns
/// the future that waits for durability and encodes the response (`None` for acks=0).
pub(crate) async fn submit_produce(
    context: &ServerContext,
    frame: RequestFrame,
) -> Result<PendingResponse<'_>, Closed> {
    let version = frame.header.request_api_version;
    let correlation_id = frame.header.correlation_id;
    let request = produce_parts(frame)?;
    Ok(produce_pending(context, version, correlation_id, request).await)
}

/// Decodes a Produce frame and takes the request apart, dropping the header first: its
/// client id is a slice of the frame too, and the frame's buffer must have no other owner
/// for the record sets to be kept without a copy.
pub(crate) fn produce_parts(frame: RequestFrame) -> Result<produce::Parts, Closed> {
    let version = frame.header.request_api_version;
    match decode_request(&frame)? {
        Request::Produce(request) => {
            let RequestFrame { body, header, .. } = frame;
            drop(header);
            Ok(produce::Parts::new(request, body))
        }
        // Only Produce frames are routed here.
        _ => Err(DecodeError::Unsupported {
            api: frame.api_key,
            version,
        }
        .into()),
    }
}

async fn produce_pending(
    context: &ServerContext,
    version: i16,
    correlation_id: i32,
    request: produce::Parts,
) -> PendingResponse<'_> {
    let started = Instant::now();
    let acks = request.acks();
    let durable = produce::submit(context, version, request).await;
    Box::pin(async move {
        let response = durable.await;
        let metrics = context.engine.metrics();
        metrics.producer.acknowledged(started.elapsed());
        metrics.kafka.request("Produce", started.elapsed());
        if acks == 0 {
            return Ok(None);
        }
        encode(ApiKey::Produce, version, correlation_id, &response).map(Some)
    })
}

fn encode<T: streamhouse_kafka_proto::Encodable>(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &T,
) -> Result<Encoded, Closed> {
    encode_response(api, version, correlation_id, body)
        .map(|frame| vec![frame])
        .map_err(Closed::Encode)
}
