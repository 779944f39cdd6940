//! The RecordBatch v2 header: layout, validation and in-place patching.
//!
//! ```text
//! offset  size  field
//!      0     8  baseOffset            <- patched by the broker; outside the CRC
//!      8     4  batchLength           (bytes after this field)
//!     12     4  partitionLeaderEpoch  (outside the CRC)
//!     16     1  magic (2)
//!     17     4  crc (CRC-32C of bytes 21..)
//!     21     2  attributes
//!     23     4  lastOffsetDelta
//!     27     8  baseTimestamp
//!     35     8  maxTimestamp          <- patched for LogAppendTime, which is inside the CRC
//!     43     8  producerId
//!     51     2  producerEpoch
//!     53     4  baseSequence
//!     57     4  recordCount
//!     61        records...
//! ```

use std::ops::Range;

use bytes::{Buf, Bytes};
use streamhouse_types::{Offset, TimestampMs};

/// Length of the fixed RecordBatch v2 header.
pub const BATCH_HEADER_LEN: usize = 61;
/// `baseOffset` + `batchLength`: the part of the header not counted by `batchLength`.
const LOG_OVERHEAD: usize = 12;
const CRC_START: usize = 21;
const MAGIC_V2: i8 = 2;

/// Why a batch was rejected. Small and allocation-free: it is produced on the request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Fewer bytes than the header or the declared length needs.
    #[error("record batch truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the batch declares or the header needs.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// Not a v2 batch (v0/v1 message sets are not accepted).
    #[error("unsupported record batch magic {0}; only v2 is accepted")]
    UnsupportedMagic(i8),
    /// `batchLength` is too small to hold a v2 header.
    #[error("record batch length {0} is invalid")]
    InvalidLength(i32),
    /// The CRC-32C does not match the content.
    #[error("record batch CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// The CRC in the header.
        stored: u32,
        /// The CRC of the bytes.
        computed: u32,
    },
    /// `recordCount` and `lastOffsetDelta` disagree, or are negative.
    #[error("record batch declares {record_count} records but lastOffsetDelta {last_offset_delta}")]
    InconsistentCount {
        /// Declared record count.
        record_count: i32,
        /// Declared last offset delta.
        last_offset_delta: i32,
    },
    /// A batch with no records.
    #[error("record batch holds no records")]
    Empty,
    /// The records inside could not be decoded (or decompressed).
    #[error("record batch contents could not be decoded")]
    Undecodable,
    /// Compression codec bits name no known codec.
    #[error("unknown compression codec {0}")]
    UnknownCompression(u8),
}

/// Compression codec of a batch (attributes bits 0-2). StreamHouse stores batches as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Uncompressed.
    None,
    /// gzip.
    Gzip,
    /// Snappy (xerial framing).
    Snappy,
    /// LZ4 frame format.
    Lz4,
    /// Zstandard.
    Zstd,
}

/// A zero-copy view of one batch's header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// First offset (as stored: the producer sends 0, the broker patches it).
    pub base_offset: Offset,
    /// Bytes after the `batchLength` field.
    pub batch_length: i32,
    /// Leader epoch field.
    pub partition_leader_epoch: i32,
    /// Magic byte; 2 for v2.
    pub magic: i8,
    /// Stored CRC-32C.
    pub crc: u32,
    /// Attribute bits (compression, timestamp type, transactional, control).
    pub attributes: i16,
    /// Offset of the last record relative to `base_offset`.
    pub last_offset_delta: i32,
    /// First record's timestamp.
    pub base_timestamp: TimestampMs,
    /// Largest record timestamp.
    pub max_timestamp: TimestampMs,
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// First sequence number, or -1.
    pub base_sequence: i32,
    /// Number of records.
    pub record_count: i32,
}

impl BatchHeader {
    /// Reads the header at the start of `bytes`. Checks only that the header is present
    /// and the magic is 2; see [`BatchHeader::validate`] for the rest.
    pub fn parse(bytes: &[u8]) -> Result<Self, BatchError> {
        if bytes.len() < BATCH_HEADER_LEN {
            return Err(BatchError::Truncated {
                needed: BATCH_HEADER_LEN,
                available: bytes.len(),
            });
        }
        let mut b = &bytes[..BATCH_HEADER_LEN];
        let header = Self {
            base_offset: b.get_i64(),
            batch_length: b.get_i32(),
            partition_leader_epoch: b.get_i32(),
            magic: b.get_i8(),
            crc: b.get_u32(),
            attributes: b.get_i16(),
            last_offset_delta: b.get_i32(),
            base_timestamp: b.get_i64(),
            max_timestamp: b.get_i64(),
            producer_id: b.get_i64(),
            producer_epoch: b.get_i16(),
            base_sequence: b.get_i32(),
            record_count: b.get_i32(),
        };
        if header.magic != MAGIC_V2 {
            return Err(BatchError::UnsupportedMagic(header.magic));
        }
        Ok(header)
    }

    /// Total size of the batch in bytes, header included.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + usize::try_from(self.batch_length).unwrap_or(0)
    }

    /// Offset of the last record. Saturates: a producer's batch can carry any base offset
    /// until the broker patches it, and arithmetic on untrusted input must not overflow.
    pub fn last_offset(&self) -> Offset {
        self.base_offset
            .saturating_add(Offset::from(self.last_offset_delta))
    }

    /// The compression codec.
    pub fn compression(&self) -> Result<Compression, BatchError> {
        match self.attributes & 0x07 {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(BatchError::UnknownCompression(other as u8)),
        }
    }

    /// Whether timestamps are LogAppendTime (attributes bit 3).
    pub fn is_log_append_time(&self) -> bool {
        self.attributes & 0x08 != 0
    }

    /// Whether the batch belongs to a transaction (attributes bit 4).
    pub fn is_transactional(&self) -> bool {
        self.attributes & 0x10 != 0
    }

    /// Whether this is a control batch (attributes bit 5).
    pub fn is_control(&self) -> bool {
        self.attributes & 0x20 != 0
    }

    /// Whether the producer is idempotent (has a producer id).
    pub fn is_idempotent(&self) -> bool {
        self.producer_id >= 0
    }

    /// Last sequence number of an idempotent batch (sequences wrap at `i32::MAX`).
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            return -1;
        }
        let last = i64::from(self.base_sequence) + i64::from(self.last_offset_delta);
        (last % (i64::from(i32::MAX) + 1)) as i32
    }

    /// Validates one whole batch (`bytes` must be exactly the batch): length, counts, codec
    /// and the CRC-32C over everything from `attributes` on.
    pub fn validate(&self, bytes: &[u8]) -> Result<(), BatchError> {
        if self.batch_length < (BATCH_HEADER_LEN - LOG_OVERHEAD) as i32 {
            return Err(BatchError::InvalidLength(self.batch_length));
        }
        if bytes.len() != self.total_len() {
            return Err(BatchError::Truncated {
                needed: self.total_len(),
                available: bytes.len(),
            });
        }
        if self.record_count <= 0 && !self.is_control() {
            return Err(BatchError::Empty);
        }
        // Widened: the count is untrusted and `i32::MIN - 1` would overflow (found by fuzzing).
        if self.record_count < 0
            || self.last_offset_delta < 0
            || i64::from(self.record_count) - 1 > i64::from(self.last_offset_delta)
        {
            return Err(BatchError::InconsistentCount {
                record_count: self.record_count,
                last_offset_delta: self.last_offset_delta,
            });
        }
        self.compression()?;
        let computed = crc32c(&bytes[CRC_START..]);
        if computed != self.crc {
            return Err(BatchError::CrcMismatch {
                stored: self.crc,
                computed,
            });
        }
        Ok(())
    }
}

/// Iterates over the batches in a byte string of concatenated batches, yielding each
/// batch's header and its bytes (a zero-copy slice). Stops with an error item at the first
/// malformed or truncated batch.
pub fn batches(
    bytes: &Bytes,
) -> impl Iterator<Item = Result<(BatchHeader, Bytes), BatchError>> + '_ {
    batch_ranges(bytes).map(|item| item.map(|(header, range)| (header, bytes.slice(range))))
}

/// [`batches`] over any byte slice: each batch's header and where it lies in `bytes`.
pub fn batch_ranges(
    bytes: &[u8],
) -> impl Iterator<Item = Result<(BatchHeader, Range<usize>), BatchError>> + '_ {
    let mut pos = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || pos >= bytes.len() {
            return None;
        }
        let result = BatchHeader::parse(&bytes[pos..]).and_then(|header| {
            if header.batch_length < (BATCH_HEADER_LEN - LOG_OVERHEAD) as i32 {
                return Err(BatchError::InvalidLength(header.batch_length));
            }
            let end = pos + header.total_len();
            if end > bytes.len() {
                return Err(BatchError::Truncated {
                    needed: header.total_len(),
                    available: bytes.len() - pos,
                });
            }
            let range = pos..end;
            pos = end;
            Ok((header, range))
        });
        failed = result.is_err();
        Some(result)
    })
}

/// Splits and fully validates (CRC included) every batch in `bytes`.
pub fn validate_batches(bytes: &Bytes) -> Result<Vec<(BatchHeader, Bytes)>, BatchError> {
    Ok(validate_batch_ranges(bytes)?
        .into_iter()
        .map(|(header, range)| (header, bytes.slice(range)))
        .collect())
}

/// [`validate_batches`] over any byte slice: each batch's header and where it lies.
pub fn validate_batch_ranges(bytes: &[u8]) -> Result<Vec<(BatchHeader, Range<usize>)>, BatchError> {
    batch_ranges(bytes)
        .map(|item| {
            let (header, range) = item?;
            header.validate(&bytes[range.clone()])?;
            Ok((header, range))
        })
        .collect()
}

/// Writes `base_offset` into a batch's header. The field is outside the CRC, so the batch
/// stays valid.
pub fn patch_base_offset(batch: &mut [u8], base_offset: Offset) {
    batch[0..8].copy_from_slice(&base_offset.to_be_bytes());
}

/// Writes `max_timestamp` (for LogAppendTime) and sets the timestamp-type bit, then
/// recomputes the CRC, which covers both fields.
pub fn patch_max_timestamp(batch: &mut [u8], max_timestamp: TimestampMs) {
    let attributes = i16::from_be_bytes([batch[21], batch[22]]) | 0x08;
    batch[21..23].copy_from_slice(&attributes.to_be_bytes());
    batch[35..43].copy_from_slice(&max_timestamp.to_be_bytes());
    let crc = crc32c(&batch[CRC_START..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

/// CRC-32C (Castagnoli), the batch checksum.
fn crc32c(bytes: &[u8]) -> u32 {
    // A 32-bit CRC in the library's u64 result.
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, bytes) as u32
}

#[cfg(test)]
mod tests;
