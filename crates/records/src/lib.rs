//! Kafka RecordBatch v2, kept as opaque bytes.
//!
//! Layer: just above `types`. StreamHouse never decodes individual records on the hot path:
//! a producer's batch is validated through a zero-copy [`BatchHeader`] view, its
//! `baseOffset` is patched in place (the field sits outside the CRC), and the same bytes
//! are stored and later served to consumers. Only the cold ListOffsets-by-time path
//! decodes records ([`record_timestamps`]), as do the HTTP message browser and produce
//! endpoint ([`decode_records`], [`encode_records`]), through the `kafka-protocol` crate.
//!
//! ```
//! use bytes::Bytes;
//! use streamhouse_records::{BatchHeader, batches};
//!
//! // An empty byte string holds no batches; a truncated one is an error.
//! assert_eq!(batches(&Bytes::new()).count(), 0);
//! assert!(BatchHeader::parse(&[0u8; 10]).is_err());
//! ```
#![warn(missing_docs)]

mod batch;
mod records;
mod timestamps;

pub use batch::{
    BATCH_HEADER_LEN, BatchError, BatchHeader, Compression, batch_ranges, batches,
    patch_base_offset, patch_max_timestamp, validate_batch_ranges, validate_batches,
};
pub use records::{NewRecord, Record, decode_records, encode_records};
pub use timestamps::record_timestamps;
