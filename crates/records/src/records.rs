//! Individual records, for the cold paths that show or build them (the HTTP message
//! browser and produce endpoint). The Kafka path never comes here.

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression as WireCompression, Record as WireRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};
use streamhouse_types::{Offset, TimestampMs};

use crate::batch::{BatchError, BatchHeader};

/// One record of a stored batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its offset in the partition.
    pub offset: Offset,
    /// Its timestamp (the batch's for LogAppendTime topics).
    pub timestamp: TimestampMs,
    /// The key, if any.
    pub key: Option<Bytes>,
    /// The value, if any (`None` is a tombstone).
    pub value: Option<Bytes>,
    /// Headers in order; a header value may be null.
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// A record to produce.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewRecord {
    /// The key, if any.
    pub key: Option<Bytes>,
    /// The value, if any.
    pub value: Option<Bytes>,
    /// Headers in order. (Null header values are not offered: kafka-protocol's decoder
    /// cannot read them back.)
    pub headers: Vec<(String, Bytes)>,
    /// CreateTime of the record.
    pub timestamp: TimestampMs,
}

/// The decompressed records of one stored batch, and the map from a record's own
/// timestamp to the one it is read with (the batch's max timestamp for LogAppendTime).
pub(crate) fn decode_wire(
    batch: &Bytes,
) -> Result<(Vec<WireRecord>, impl Fn(TimestampMs) -> TimestampMs), BatchError> {
    let header = BatchHeader::parse(batch)?;
    let mut buf = batch.clone();
    let set = RecordBatchDecoder::decode(&mut buf).map_err(|_| BatchError::Undecodable)?;
    let log_append_time = header.is_log_append_time().then_some(header.max_timestamp);
    Ok((set.records, move |own| log_append_time.unwrap_or(own)))
}

/// Every record of one stored batch (base offset already patched), decompressed.
/// Control records (transaction markers) are skipped.
pub fn decode_records(batch: &Bytes) -> Result<Vec<Record>, BatchError> {
    let (records, timestamp_of) = decode_wire(batch)?;
    Ok(records
        .into_iter()
        .filter(|r| !r.control)
        .map(|r| Record {
            offset: r.offset,
            timestamp: timestamp_of(r.timestamp),
            key: r.key,
            value: r.value,
            headers: r
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        })
        .collect())
}

/// Encodes records as one uncompressed, non-idempotent v2 batch with base offset 0, the
/// way a producer sends it.
pub fn encode_records(records: &[NewRecord]) -> Bytes {
    let records: Vec<WireRecord> = records
        .iter()
        .enumerate()
        .map(|(i, r)| WireRecord {
            transactional: false,
            control: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // With no producer id, base sequence -1: kafka-protocol derives it from the
            // first record's sequence minus its offset delta.
            sequence: i as i32 - 1,
            timestamp: r.timestamp,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (StrBytes::from_string(k.clone()), Some(v.clone())))
                .collect(),
        })
        .collect();
    let mut buf = BytesMut::new();
    // Encoding in-memory records without compression cannot fail.
    let _ = RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: WireCompression::None,
        },
    );
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{patch_base_offset, validate_batches};

    #[test]
    fn encoded_records_validate_and_decode_back() {
        let sent = vec![
            NewRecord {
                key: Some(Bytes::from_static(b"k")),
                value: Some(Bytes::from_static(b"{\"a\":1}")),
                headers: vec![("h".to_owned(), Bytes::from_static(b"v"))],
                timestamp: 1_700_000_000_000,
            },
            NewRecord {
                key: None,
                value: None,
                headers: vec![],
                timestamp: 1_700_000_000_001,
            },
        ];
        let batch = encode_records(&sent);
        let validated = validate_batches(&batch).expect("a valid batch");
        assert_eq!(validated.len(), 1);
        assert_eq!(validated[0].0.record_count, 2);
        let mut stored = batch.to_vec();
        patch_base_offset(&mut stored, 40);
        let got = decode_records(&Bytes::from(stored)).expect("decodes");
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].offset, got[1].offset), (40, 41));
        assert_eq!(got[0].key.as_deref(), Some(&b"k"[..]));
        assert_eq!(
            got[0].headers,
            vec![("h".to_owned(), Some(Bytes::from_static(b"v")))]
        );
        assert_eq!((got[1].key.clone(), got[1].value.clone()), (None, None));
        assert_eq!(got[1].timestamp, 1_700_000_000_001);
    }
}
