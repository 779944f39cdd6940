use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression as KpCompression, Record, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};

use super::*;

/// A batch encoded by an independent codec (the `kafka-protocol` crate), as a client sends it.
fn encoded(
    count: usize,
    compression: KpCompression,
    producer_id: i64,
    base_sequence: i32,
) -> Bytes {
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            transactional: false,
            control: false,
            partition_leader_epoch: -1,
            producer_id,
            producer_epoch: if producer_id >= 0 { 3 } else { -1 },
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // kafka-protocol groups records into one batch while offset - sequence is constant;
            // starting at -1 keeps the batch's baseSequence at -1 (not idempotent).
            sequence: if base_sequence >= 0 {
                base_sequence + i as i32
            } else {
                i as i32 - 1
            },
            timestamp: 1_700_000_000_000 + i as i64,
            key: Some(Bytes::from(format!("key-{i}"))),
            value: Some(Bytes::from(vec![b'v'; 100])),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression,
        },
    )
    .expect("encode");
    buf.freeze()
}

#[test]
fn header_reads_fields_written_by_a_real_encoder() {
    let bytes = encoded(5, KpCompression::None, 42, 7);
    let header = BatchHeader::parse(&bytes).expect("parse");
    assert_eq!(header.base_offset, 0);
    assert_eq!(header.magic, 2);
    assert_eq!(header.record_count, 5);
    assert_eq!(header.last_offset_delta, 4);
    assert_eq!(header.base_timestamp, 1_700_000_000_000);
    assert_eq!(header.max_timestamp, 1_700_000_000_004);
    assert_eq!(header.producer_id, 42);
    assert_eq!(header.producer_epoch, 3);
    assert_eq!(header.base_sequence, 7);
    assert_eq!(header.last_sequence(), 11);
    assert_eq!(header.total_len(), bytes.len());
    assert_eq!(header.compression(), Ok(Compression::None));
    header.validate(&bytes).expect("valid");
}

#[test]
fn every_codec_validates_and_reports_its_compression() {
    for (codec, expected) in [
        (KpCompression::Gzip, Compression::Gzip),
        (KpCompression::Snappy, Compression::Snappy),
        (KpCompression::Lz4, Compression::Lz4),
        (KpCompression::Zstd, Compression::Zstd),
    ] {
        let bytes = encoded(20, codec, -1, -1);
        let header = BatchHeader::parse(&bytes).expect("parse");
        assert_eq!(header.compression(), Ok(expected));
        header.validate(&bytes).expect("valid");
    }
}

#[test]
fn patching_base_offset_keeps_the_crc_valid_and_the_records_intact() {
    let bytes = encoded(3, KpCompression::Lz4, -1, -1);
    let mut patched = BytesMut::from(&bytes[..]);
    patch_base_offset(&mut patched, 1_000);
    let header = BatchHeader::parse(&patched).expect("parse");
    assert_eq!(header.base_offset, 1_000);
    assert_eq!(header.last_offset(), 1_002);
    header.validate(&patched).expect("CRC still valid");
    let mut buf = patched.freeze();
    let decoded = RecordBatchDecoder::decode(&mut buf).expect("decode");
    let offsets: Vec<i64> = decoded.records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, vec![1_000, 1_001, 1_002]);
}

#[test]
fn patching_max_timestamp_sets_log_append_time_and_recomputes_the_crc() {
    let bytes = encoded(2, KpCompression::None, -1, -1);
    let mut patched = BytesMut::from(&bytes[..]);
    patch_max_timestamp(&mut patched, 1_800_000_000_000);
    let header = BatchHeader::parse(&patched).expect("parse");
    assert!(header.is_log_append_time());
    assert_eq!(header.max_timestamp, 1_800_000_000_000);
    header.validate(&patched).expect("CRC recomputed");
}

#[test]
fn a_flipped_bit_is_a_crc_mismatch() {
    let bytes = encoded(2, KpCompression::None, -1, -1);
    let mut corrupt = BytesMut::from(&bytes[..]);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0x01;
    let header = BatchHeader::parse(&corrupt).expect("parse");
    assert!(matches!(
        header.validate(&corrupt),
        Err(BatchError::CrcMismatch { .. })
    ));
}

#[test]
fn truncation_bad_magic_and_bad_lengths_are_errors_not_panics() {
    let bytes = encoded(2, KpCompression::None, -1, -1);
    assert!(matches!(
        BatchHeader::parse(&bytes[..30]),
        Err(BatchError::Truncated { .. })
    ));

    let mut v1 = BytesMut::from(&bytes[..]);
    v1[16] = 1;
    assert_eq!(
        BatchHeader::parse(&v1),
        Err(BatchError::UnsupportedMagic(1))
    );

    let truncated = bytes.slice(..bytes.len() - 5);
    let results: Vec<_> = batches(&truncated).collect();
    assert_eq!(results.len(), 1);
    assert!(matches!(results[0], Err(BatchError::Truncated { .. })));

    let mut negative = BytesMut::from(&bytes[..]);
    negative[8..12].copy_from_slice(&(-5i32).to_be_bytes());
    let negative = negative.freeze();
    assert!(matches!(
        batches(&negative).next(),
        Some(Err(BatchError::InvalidLength(-5)))
    ));
}

#[test]
fn batches_splits_concatenated_batches_zero_copy() {
    let a = encoded(3, KpCompression::None, -1, -1);
    let b = encoded(4, KpCompression::Zstd, -1, -1);
    let mut joined = BytesMut::new();
    joined.extend_from_slice(&a);
    joined.extend_from_slice(&b);
    let joined = joined.freeze();
    let split = validate_batches(&joined).expect("valid");
    assert_eq!(split.len(), 2);
    assert_eq!(split[0].1, a);
    assert_eq!(split[1].1, b);
    assert_eq!(split[1].0.record_count, 4);
    // Zero-copy: the slices point into the joined buffer.
    assert_eq!(split[0].1.as_ptr(), joined.as_ptr());
}

#[test]
fn untrusted_offsets_never_overflow() {
    // Found by the record_batches fuzz target: a client-chosen base offset near i64::MAX.
    let bytes = encoded(3, KpCompression::None, -1, -1);
    let mut patched = BytesMut::from(&bytes[..]);
    patch_base_offset(&mut patched, i64::MAX - 1);
    let header = BatchHeader::parse(&patched).expect("parse");
    assert_eq!(header.last_offset(), i64::MAX);
}

#[test]
fn a_negative_record_count_is_refused_without_overflow() {
    // Found by the record_batches fuzz target: a control batch with recordCount i32::MIN.
    let bytes = encoded(1, KpCompression::None, -1, -1);
    let mut bad = BytesMut::from(&bytes[..]);
    bad[21..23].copy_from_slice(&0x20i16.to_be_bytes()); // control batch
    bad[57..61].copy_from_slice(&i32::MIN.to_be_bytes());
    let header = BatchHeader::parse(&bad).expect("parse");
    assert!(matches!(
        header.validate(&bad),
        Err(BatchError::InconsistentCount { .. })
    ));
}

#[test]
fn the_checksum_is_crc32c() {
    // The check value of CRC-32C (Castagnoli), from the CRC catalogue.
    assert_eq!(crc32c(b"123456789"), 0xE306_9283);
}
