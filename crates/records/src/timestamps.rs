//! Record timestamps inside a stored batch, for ListOffsets by time. This is the one place
//! StreamHouse looks inside a batch (decompressing it if needed); it is off the hot path.

use bytes::Bytes;
use streamhouse_types::{Offset, TimestampMs};

use crate::batch::BatchError;
use crate::records::decode_wire;

/// `(offset, timestamp)` of every record in one stored batch (base offset already
/// patched). For LogAppendTime batches every record carries the batch's max timestamp.
pub fn record_timestamps(batch: &Bytes) -> Result<Vec<(Offset, TimestampMs)>, BatchError> {
    let (records, timestamp_of) = decode_wire(batch)?;
    Ok(records
        .iter()
        .map(|r| (r.offset, timestamp_of(r.timestamp)))
        .collect())
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };

    use super::*;
    use crate::batch::{patch_base_offset, patch_max_timestamp};

    fn batch(compression: Compression, timestamps: &[i64]) -> BytesMut {
        let records: Vec<Record> = timestamps
            .iter()
            .enumerate()
            .map(|(i, ts)| Record {
                transactional: false,
                control: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                sequence: i as i32 - 1,
                timestamp: *ts,
                key: None,
                value: Some(Bytes::from_static(b"v")),
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
        buf
    }

    #[test]
    fn timestamps_come_out_per_record_at_stored_offsets_for_every_codec() {
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let mut stored = batch(codec, &[30, 10, 20]);
            patch_base_offset(&mut stored, 100);
            let got = record_timestamps(&stored.freeze()).expect("decode");
            assert_eq!(got, vec![(100, 30), (101, 10), (102, 20)], "{codec:?}");
        }
    }

    #[test]
    fn log_append_time_batches_report_the_broker_time() {
        let mut stored = batch(Compression::None, &[1, 2]);
        patch_max_timestamp(&mut stored, 999);
        let got = record_timestamps(&stored.freeze()).expect("decode");
        assert_eq!(got, vec![(0, 999), (1, 999)]);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(record_timestamps(&Bytes::from_static(&[0; 70])).is_err());
    }
}
