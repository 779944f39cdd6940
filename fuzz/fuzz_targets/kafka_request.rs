//! Kafka request framing and decoding, fed bytes the way a client socket delivers them.
//!
//! The input is a byte stream. Like `kafka-server`'s connection loop it is cut into frames
//! with `frame_len` (against a maximum), each frame's header is read with `decode_header`,
//! and the body is decoded with `decode_request`, which the server dispatches on. For an API
//! and version in `SUPPORTED` the body is also decoded directly with `decode_body::<T>` as
//! that API's request type, and the two must agree. A Produce request's record sets then go
//! through `validate_batches`, as the engine does on submit. Errors are fine; panics (and
//! failed invariants) are bugs.
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
    ApiKey, Decodable, DecodeError, FrameError, Request, RequestFrame, SUPPORTED, decode_body,
    decode_header, decode_request, frame_len, is_supported,
};

/// Request size limit used for framing. Smaller than the server's 100 MiB default so that
/// the `TooLarge` path is reachable from small inputs, larger than any input libFuzzer
/// generates by default so that whole frames are reachable too.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

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
        Err(e @ DecodeError::Unsupported { .. }) => panic!("decode_header gave {e:?}"),
    };
    // The header agrees with the bytes it was read from.
    assert_eq!(request.header.request_api_key, request.api_key as i16);
    assert_eq!(request.header.request_api_key, i16::from_be_bytes([raw[0], raw[1]]));
    assert_eq!(request.header.request_api_version, i16::from_be_bytes([raw[2], raw[3]]));
    assert!(request.body.len() <= raw.len() - 8);

    let api = request.api_key;
    let version = request.header.request_api_version;
    let supported = is_supported(api, version);
    assert_eq!(
        supported,
        SUPPORTED
            .iter()
            .any(|(key, min, max)| *key == api && *min <= version && version <= *max)
    );
    // What the server decodes and dispatches on.
    let decoded = decode_request(&request);
    if !supported {
        assert!(
            matches!(decoded, Err(DecodeError::Unsupported { api: a, version: v }) if a == api && v == version),
            "{api:?} v{version} is not supported but decode_request gave {decoded:?}"
        );
        // ApiVersions is answered (at v0) without its body; anything else closes.
        return api == ApiKey::ApiVersions;
    }
    // The same body decoded directly as the request type of that API.
    let direct = decode_direct(&request);
    match (&decoded, direct) {
        (Ok(request_enum), Some(Ok(variant_api))) => {
            assert_eq!(variant_api, api);
            assert_eq!(request_api(request_enum), api);
        }
        (Err(DecodeError::Malformed { api: a, version: v, .. }), Some(Err(()))) => {
            assert_eq!((*a, *v), (api, version));
        }
        (decoded, direct) => {
            panic!("{api:?} v{version}: decode_request gave {decoded:?}, decode_body {direct:?}")
        }
    }
    let Ok(request) = decoded else {
        return false;
    };
    if let Request::Produce(produce) = &request {
        for topic in &produce.topic_data {
            for partition in &topic.partition_data {
                if let Some(records) = &partition.records {
                    check_batches(records);
                }
            }
        }
    }
    true
}

/// Decodes the body with `decode_body::<T>` for the request type of the frame's API:
/// `Some(Ok(api))` when it decodes, `Some(Err(()))` when it does not, `None` for an API
/// the server does not implement.
fn decode_direct(frame: &RequestFrame) -> Option<Result<ApiKey, ()>> {
    fn body<T: Decodable>(frame: &RequestFrame) -> Result<ApiKey, ()> {
        decode_body::<T>(frame).map(|_| frame.api_key).map_err(|e| {
            assert!(matches!(e, DecodeError::Malformed { .. }), "{e:?}");
        })
    }
    Some(match frame.api_key {
        ApiKey::Produce => body::<ProduceRequest>(frame),
        ApiKey::Fetch => body::<FetchRequest>(frame),
        ApiKey::ListOffsets => body::<ListOffsetsRequest>(frame),
        ApiKey::Metadata => body::<MetadataRequest>(frame),
        ApiKey::ApiVersions => body::<ApiVersionsRequest>(frame),
        ApiKey::CreateTopics => body::<CreateTopicsRequest>(frame),
        ApiKey::DeleteTopics => body::<DeleteTopicsRequest>(frame),
        ApiKey::InitProducerId => body::<InitProducerIdRequest>(frame),
        ApiKey::CreatePartitions => body::<CreatePartitionsRequest>(frame),
        ApiKey::DeleteRecords => body::<DeleteRecordsRequest>(frame),
        ApiKey::DescribeConfigs => body::<DescribeConfigsRequest>(frame),
        ApiKey::AlterConfigs => body::<AlterConfigsRequest>(frame),
        ApiKey::IncrementalAlterConfigs => body::<IncrementalAlterConfigsRequest>(frame),
        ApiKey::DescribeCluster => body::<DescribeClusterRequest>(frame),
        ApiKey::FindCoordinator => body::<FindCoordinatorRequest>(frame),
        _ => return None,
    })
}

fn request_api(request: &Request) -> ApiKey {
    match request {
        Request::Produce(_) => ApiKey::Produce,
        Request::Fetch(_) => ApiKey::Fetch,
        Request::ListOffsets(_) => ApiKey::ListOffsets,
        Request::Metadata(_) => ApiKey::Metadata,
        Request::ApiVersions(_) => ApiKey::ApiVersions,
        Request::CreateTopics(_) => ApiKey::CreateTopics,
        Request::DeleteTopics(_) => ApiKey::DeleteTopics,
        Request::InitProducerId(_) => ApiKey::InitProducerId,
        Request::CreatePartitions(_) => ApiKey::CreatePartitions,
        Request::DeleteRecords(_) => ApiKey::DeleteRecords,
        Request::DescribeConfigs(_) => ApiKey::DescribeConfigs,
        Request::AlterConfigs(_) => ApiKey::AlterConfigs,
        Request::IncrementalAlterConfigs(_) => ApiKey::IncrementalAlterConfigs,
        Request::DescribeCluster(_) => ApiKey::DescribeCluster,
        Request::FindCoordinator(_) => ApiKey::FindCoordinator,
    }
}

/// What the engine does with a produced record set: split and validate every batch.
fn check_batches(records: &Bytes) {
    if let Ok(batches) = streamhouse_records::validate_batches(records) {
        let total: usize = batches.iter().map(|(_, batch)| batch.len()).sum();
        assert_eq!(total, records.len());
    }
}
