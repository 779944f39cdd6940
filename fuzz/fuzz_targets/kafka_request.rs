//! Kafka request framing and decoding, fed bytes the way a client socket delivers them.
//!
//! The input is a byte stream. Like `kafka-server`'s connection loop it is cut into frames
//! with `frame_len` (against a maximum), each frame's header is read with `decode_header`,
//! and, if the API and version are in `SUPPORTED` (copied from
//! `crates/kafka-server/src/handlers.rs`), the body is decoded with `decode_body` as the
//! request type the server would use. A Produce request's record sets then go through
//! `validate_batches`, as the engine does on submit. Errors are fine; panics are bugs.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use streamhouse_kafka_proto::messages::{
    AlterConfigsRequest, ApiVersionsRequest, CreatePartitionsRequest, CreateTopicsRequest,
    DeleteRecordsRequest, DeleteTopicsRequest, DescribeClusterRequest, DescribeConfigsRequest,
    FetchRequest, FindCoordinatorRequest, IncrementalAlterConfigsRequest, InitProducerIdRequest,
    ListOffsetsRequest, MetadataRequest, ProduceRequest,
};
use streamhouse_kafka_proto::{
    ApiKey, DecodeError, FrameError, RequestFrame, decode_body, decode_header, frame_len,
};

/// Request size limit used for framing. Smaller than the server's 100 MiB default so that
/// the `TooLarge` path is reachable from small inputs, larger than any input libFuzzer
/// generates by default so that whole frames are reachable too.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Copy of `streamhouse_kafka_server::handlers::SUPPORTED` (not a dependency: it would pull
/// the engine, tokio and object storage into the fuzz build). Keep in sync.
const SUPPORTED: &[(ApiKey, i16, i16)] = &[
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

fuzz_target!(|data: &[u8]| {
    let mut stream = Bytes::copy_from_slice(data);
    // Every whole frame in the stream, as `connection::read_frame` would return them.
    loop {
        let len = match frame_len(&stream, MAX_REQUEST_BYTES) {
            Ok(Some(len)) => len,
            // Waiting for more bytes: the input ends here.
            Ok(None) => {
                if stream.len() >= 4 {
                    let announced = i32::from_be_bytes([stream[0], stream[1], stream[2], stream[3]]);
                    assert!(announced >= 0 && announced as usize <= MAX_REQUEST_BYTES);
                    assert!(stream.len() < 4 + announced as usize);
                }
                return;
            }
            // The server closes the connection.
            Err(FrameError::TooLarge { len, max }) => {
                assert!(len > max && max == MAX_REQUEST_BYTES);
                return;
            }
            Err(FrameError::Negative(len)) => {
                assert!(len < 0);
                return;
            }
        };
        assert!(len <= MAX_REQUEST_BYTES && stream.len() >= 4 + len);
        let mut frame = stream.split_to(4 + len);
        let frame = frame.split_off(4);
        if !handle_frame(frame) {
            return;
        }
    }
});

/// One frame: header, then body. `false` where the server would close the connection.
fn handle_frame(frame: Bytes) -> bool {
    let raw = frame.clone();
    let request = match decode_header(frame) {
        Ok(request) => request,
        Err(DecodeError::TruncatedHeader) => {
            assert!(raw.len() < 8);
            return false;
        }
        Err(DecodeError::UnknownApiKey(key)) => {
            assert_eq!(key, i16::from_be_bytes([raw[0], raw[1]]));
            return false;
        }
        Err(DecodeError::Malformed { .. }) => return false,
    };
    // The header agrees with the bytes it was read from.
    assert_eq!(request.header.request_api_key, request.api_key as i16);
    assert_eq!(request.header.request_api_key, i16::from_be_bytes([raw[0], raw[1]]));
    assert_eq!(request.header.request_api_version, i16::from_be_bytes([raw[2], raw[3]]));
    assert!(request.body.len() <= raw.len() - 8);

    let api = request.api_key;
    let version = request.header.request_api_version;
    if !supported(api, version) {
        // ApiVersions is answered (at v0) without decoding the body; anything else closes.
        return api == ApiKey::ApiVersions;
    }
    decode_supported(&request)
}

fn decode_supported(request: &RequestFrame) -> bool {
    fn body<T: streamhouse_kafka_proto::Decodable>(request: &RequestFrame) -> Option<T> {
        decode_body::<T>(request).ok()
    }
    match request.api_key {
        ApiKey::Produce => match body::<ProduceRequest>(request) {
            Some(produce) => {
                for topic in &produce.topic_data {
                    for partition in &topic.partition_data {
                        if let Some(records) = &partition.records {
                            check_batches(records);
                        }
                    }
                }
                true
            }
            None => false,
        },
        ApiKey::Fetch => body::<FetchRequest>(request).is_some(),
        ApiKey::ListOffsets => body::<ListOffsetsRequest>(request).is_some(),
        ApiKey::Metadata => body::<MetadataRequest>(request).is_some(),
        ApiKey::ApiVersions => body::<ApiVersionsRequest>(request).is_some(),
        ApiKey::CreateTopics => body::<CreateTopicsRequest>(request).is_some(),
        ApiKey::DeleteTopics => body::<DeleteTopicsRequest>(request).is_some(),
        ApiKey::InitProducerId => body::<InitProducerIdRequest>(request).is_some(),
        ApiKey::CreatePartitions => body::<CreatePartitionsRequest>(request).is_some(),
        ApiKey::DeleteRecords => body::<DeleteRecordsRequest>(request).is_some(),
        ApiKey::DescribeConfigs => body::<DescribeConfigsRequest>(request).is_some(),
        ApiKey::AlterConfigs => body::<AlterConfigsRequest>(request).is_some(),
        ApiKey::IncrementalAlterConfigs => {
            body::<IncrementalAlterConfigsRequest>(request).is_some()
        }
        ApiKey::DescribeCluster => body::<DescribeClusterRequest>(request).is_some(),
        ApiKey::FindCoordinator => body::<FindCoordinatorRequest>(request).is_some(),
        other => unreachable!("{other:?} is in SUPPORTED but not decoded here"),
    }
}

/// What the engine does with a produced record set: split and validate every batch.
fn check_batches(records: &Bytes) {
    if let Ok(batches) = streamhouse_records::validate_batches(records) {
        let total: usize = batches.iter().map(|(_, batch)| batch.len()).sum();
        assert_eq!(total, records.len());
    }
}
