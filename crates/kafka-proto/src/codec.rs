//! Framing and header/body decoding.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable};

/// Problems with the 4-byte length prefix. Both are fatal for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The frame is larger than the configured maximum (`socket.request.max.bytes`).
    #[error("request of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A negative length.
    #[error("invalid request length {0}")]
    Negative(i32),
}

/// Problems decoding a complete frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame is too short to hold a request header.
    #[error("request header truncated")]
    TruncatedHeader,
    /// An API key Kafka does not define.
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
    /// An API or version StreamHouse does not serve.
    #[error("unsupported {api:?} version {version}")]
    Unsupported {
        /// The API.
        api: ApiKey,
        /// The version asked for.
        version: i16,
    },
    /// The header or body does not decode at this version.
    #[error("malformed {api:?} v{version} request: {reason}")]
    Malformed {
        /// The API.
        api: ApiKey,
        /// The version.
        version: i16,
        /// The decoder's message.
        reason: String,
    },
}

/// Length of the frame at the start of `buf`, once it has fully arrived: `Ok(None)` while
/// more bytes are needed. The length is checked against `max` before anything else, so an
/// oversize request is refused before its bytes are read or allocated.
pub fn frame_len(buf: &[u8], max: usize) -> Result<Option<usize>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let len = usize::try_from(len).map_err(|_| FrameError::Negative(len))?;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    Ok((buf.len() >= 4 + len).then_some(len))
}

/// A request whose header is decoded; the body is still bytes.
#[derive(Debug, Clone)]
pub struct RequestFrame {
    /// The API.
    pub api_key: ApiKey,
    /// The header (API version, correlation id, client id).
    pub header: RequestHeader,
    /// The undecoded body.
    pub body: Bytes,
}

/// Reads the request header of a frame (without its length prefix). The API key and version
/// are peeked first, because the header's own layout depends on them.
pub fn decode_header(mut frame: Bytes) -> Result<RequestFrame, DecodeError> {
    if frame.len() < 8 {
        return Err(DecodeError::TruncatedHeader);
    }
    let key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let api_key = ApiKey::try_from(key).map_err(|()| DecodeError::UnknownApiKey(key))?;
    // Header v2 (flexible) carries tagged fields; an unsupported version of the body is
    // still answered, so clamp to the newest header layout the key defines.
    let supported = api_key.valid_versions();
    let header_version =
        api_key.request_header_version(version.clamp(supported.min, supported.max));
    let header =
        RequestHeader::decode(&mut frame, header_version).map_err(|e| DecodeError::Malformed {
            api: api_key,
            version,
            reason: e.to_string(),
        })?;
    Ok(RequestFrame {
        api_key,
        header,
        body: frame,
    })
}

/// Decodes a request body at the header's version.
pub fn decode_body<T: Decodable>(frame: &RequestFrame) -> Result<T, DecodeError> {
    let mut body = frame.body.clone();
    let version = frame.header.request_api_version;
    T::decode(&mut body, version).map_err(|e| DecodeError::Malformed {
        api: frame.api_key,
        version,
        reason: e.to_string(),
    })
}

/// Encodes a response (length prefix, header, body) at `version` of `api_key`.
///
/// # Errors
/// Fails only if the message cannot be expressed at that version (a handler bug); the
/// caller should log it and close the connection.
pub fn encode_response<T: Encodable>(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &T,
) -> Result<Bytes, String> {
    let header_version = api_key.response_header_version(version);
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    // Sized up front: a Fetch response carries megabytes of records, and growing the
    // buffer from small would copy them several times and briefly hold two copies.
    let size = 4
        + header
            .compute_size(header_version)
            .map_err(|e| e.to_string())?
        + body.compute_size(version).map_err(|e| e.to_string())?;
    let mut out = BytesMut::with_capacity(size);
    out.put_i32(0); // length, patched below
    header
        .encode(&mut out, header_version)
        .map_err(|e| e.to_string())?;
    body.encode(&mut out, version).map_err(|e| e.to_string())?;
    debug_assert_eq!(out.len(), size, "compute_size disagrees with encode");
    let len = i32::try_from(out.len() - 4).map_err(|_| "response larger than 2 GiB".to_owned())?;
    out[..4].copy_from_slice(&len.to_be_bytes());
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};
    use kafka_protocol::protocol::StrBytes;

    use bytes::Buf;

    use super::*;

    fn frame<T: Encodable>(api_key: ApiKey, version: i16, body: &T) -> Bytes {
        let mut out = BytesMut::new();
        RequestHeader::default()
            .with_request_api_key(api_key as i16)
            .with_request_api_version(version)
            .with_correlation_id(42)
            .with_client_id(Some(StrBytes::from_static_str("test")))
            .encode(&mut out, api_key.request_header_version(version))
            .expect("header");
        body.encode(&mut out, version).expect("body");
        out.freeze()
    }

    #[test]
    fn headers_and_bodies_decode_at_flexible_and_classic_versions() {
        for version in [0, 3] {
            let req = ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("librdkafka"))
                .with_client_software_version(StrBytes::from_static_str("2.3.0"));
            let decoded = decode_header(frame(ApiKey::ApiVersions, version, &req)).expect("header");
            assert_eq!(decoded.api_key, ApiKey::ApiVersions);
            assert_eq!(decoded.header.correlation_id, 42);
            assert_eq!(decoded.header.client_id.as_deref(), Some("test"));
            let body: ApiVersionsRequest = decode_body(&decoded).expect("body");
            if version == 3 {
                assert_eq!(body.client_software_name.as_str(), "librdkafka");
            }
        }
        let metadata = decode_header(frame(ApiKey::Metadata, 12, &MetadataRequest::default()))
            .expect("header");
        let _: MetadataRequest = decode_body(&metadata).expect("flexible body");
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        assert_eq!(
            decode_header(Bytes::from_static(&[0, 1])).err(),
            Some(DecodeError::TruncatedHeader)
        );
        assert_eq!(
            decode_header(Bytes::from_static(&[0x7f, 0x7f, 0, 0, 0, 0, 0, 1])).err(),
            Some(DecodeError::UnknownApiKey(0x7f7f))
        );
        let mut truncated = frame(ApiKey::Metadata, 12, &MetadataRequest::default()).to_vec();
        truncated.truncate(9);
        assert!(decode_header(Bytes::from(truncated)).is_err());
        assert_eq!(
            frame_len(&[0xff, 0xff, 0xff, 0xff], 10),
            Err(FrameError::Negative(-1))
        );
        assert_eq!(frame_len(&[0, 0, 0, 2, 9, 9], 10), Ok(Some(2)));
    }

    #[test]
    fn lying_array_and_string_lengths_are_errors_not_huge_allocations() {
        // Found by the kafka_request fuzz target: a Metadata v1 request announcing 2^31 - 1
        // topics in a few bytes made the decoder try to allocate ~137 GB and abort the
        // process (fixed in vendor/kafka-protocol).
        let mut frame = BytesMut::new();
        frame.put_i16(ApiKey::Metadata as i16);
        frame.put_i16(1);
        frame.put_i32(7);
        frame.put_i16(-1); // null client id
        frame.put_i32(i32::MAX); // topics array length
        frame.put_slice(&[0, 1, b'a']);
        let request = decode_header(frame.freeze()).expect("header");
        assert!(crate::decode_request(&request).is_err());

        let mut frame = BytesMut::new();
        frame.put_i16(ApiKey::Metadata as i16);
        frame.put_i16(1);
        frame.put_i32(8);
        frame.put_i16(-1);
        frame.put_i32(1); // one topic...
        frame.put_i16(i16::MAX); // ...whose name claims 32 KiB
        let request = decode_header(frame.freeze()).expect("header");
        assert!(crate::decode_request(&request).is_err());
    }

    #[test]
    fn responses_carry_length_and_correlation_id() {
        let body = kafka_protocol::messages::ApiVersionsResponse::default();
        let bytes = encode_response(ApiKey::ApiVersions, 3, 7, &body).expect("encode");
        let len = i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        assert_eq!(len, bytes.len() - 4);
        assert_eq!(
            i32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            7
        );
        let mut rest = bytes.slice(4..);
        let _ = rest.get_i32();
    }
}
