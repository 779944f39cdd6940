//! Kafka record batches built and decoded by a third-party codec (the `kafka-protocol`
//! crate), so StreamHouse's own batch handling is checked against an independent encoder.

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

/// One record to put in a batch.
#[derive(Debug, Clone, Default)]
pub struct TestRecord {
    /// Key, or none.
    pub key: Option<Bytes>,
    /// Value, or none.
    pub value: Option<Bytes>,
    /// Headers.
    pub headers: Vec<(String, Option<Bytes>)>,
    /// Timestamp (ms).
    pub timestamp: i64,
}

/// Options for a built batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// Codec.
    pub compression: Compression,
    /// Producer id (-1 for none).
    pub producer_id: i64,
    /// Producer epoch.
    pub producer_epoch: i16,
    /// First sequence (-1 for none).
    pub base_sequence: i32,
    /// Mark the batch transactional.
    pub transactional: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            compression: Compression::None,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            transactional: false,
        }
    }
}

/// Encodes `records` as one v2 batch with base offset 0, as a producer would send it.
pub fn encode_batch(records: &[TestRecord], options: BatchOptions) -> Bytes {
    let records: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, r)| Record {
            transactional: options.transactional,
            control: false,
            partition_leader_epoch: -1,
            producer_id: options.producer_id,
            producer_epoch: options.producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // kafka-protocol keeps records in one batch while offset - sequence is constant;
            // starting at -1 keeps the batch's baseSequence at -1 (not idempotent).
            sequence: if options.base_sequence < 0 {
                i as i32 - 1
            } else {
                options.base_sequence + i as i32
            },
            timestamp: r.timestamp,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (StrBytes::from_string(k.clone()), v.clone()))
                .collect(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: options.compression,
        },
    )
    .expect("invariant: encoding an in-memory batch cannot fail");
    buf.freeze()
}

/// A batch of `count` records whose values are `value_len` bytes derived from `seed`, with
/// keys `"<seed>-<i>"` and timestamps `timestamp`.
pub fn sample_batch(seed: u64, count: usize, value_len: usize, timestamp: i64) -> Bytes {
    let records: Vec<TestRecord> = (0..count)
        .map(|i| TestRecord {
            key: Some(Bytes::from(format!("{seed}-{i}"))),
            value: Some(sample_value(seed, i, value_len)),
            headers: vec![],
            timestamp,
        })
        .collect();
    encode_batch(&records, BatchOptions::default())
}

/// Deterministic pseudo-random bytes for record `i` of batch `seed`.
pub fn sample_value(seed: u64, i: usize, len: usize) -> Bytes {
    let mut state = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i as u64)
        .wrapping_add(1);
    (0..len)
        .map(|_| {
            // xorshift64: cheap, deterministic, good enough to defeat accidental equality.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state & 0xff) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// Decodes every record in concatenated batches.
pub fn decode_records(bytes: &Bytes) -> anyhow::Result<Vec<Record>> {
    let mut buf = bytes.clone();
    let sets = RecordBatchDecoder::decode_all(&mut buf)?;
    Ok(sets.into_iter().flat_map(|set| set.records).collect())
}
