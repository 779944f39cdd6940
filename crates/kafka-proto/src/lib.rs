//! The Kafka wire codec, without I/O.
//!
//! Layer: beside `engine`, below `kafka-server`; it imports no StreamHouse crate and no
//! runtime. It turns length-prefixed frames into a [`RequestHeader`] plus a typed request,
//! and typed responses back into frames, using the `kafka-protocol` crate's messages
//! (generated from Kafka's JSON specs, flexible versions included). Record batches stay
//! opaque `Bytes`.
//!
//! ```
//! use bytes::BytesMut;
//! use streamhouse_kafka_proto::{FrameError, frame_len};
//! // Four length bytes announce a 10-byte frame that has not fully arrived yet.
//! let buf = BytesMut::from(&[0, 0, 0, 10, 1, 2][..]);
//! assert_eq!(frame_len(&buf, 1024), Ok(None));
//! // A length over the limit is refused before anything is allocated.
//! let huge = BytesMut::from(&[0x7f, 0, 0, 0][..]);
//! assert!(matches!(frame_len(&huge, 1024), Err(FrameError::TooLarge { .. })));
//! ```
#![warn(missing_docs)]

mod codec;
mod fetch;
mod requests;

pub use codec::{
    DecodeError, FrameError, RequestFrame, decode_body, decode_header, encode_response, frame_len,
};
pub use fetch::encode_fetch_response;
pub use kafka_protocol::ResponseError as ErrorCode;
pub use kafka_protocol::messages;
pub use kafka_protocol::messages::{ApiKey, RequestHeader};
pub use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
pub use requests::{Request, SUPPORTED, api_name, decode_request, is_supported};
