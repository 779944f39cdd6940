//! RecordBatch v2 parsing on arbitrary bytes, both ways the broker meets them:
//!
//! - read path (`engine::read`): `batches` splits stored bytes and the header accessors
//!   (`last_offset`, ...) are used without CRC validation;
//! - produce path (`engine::submit` / `partition::append`): `validate_batches`, then each
//!   valid batch is copied, `patch_base_offset`-ed and maybe `patch_max_timestamp`-ed.
//!
//! Beyond "no panic" it checks the invariants those callers rely on.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use streamhouse_records::{
    BATCH_HEADER_LEN, BatchHeader, batches, patch_base_offset, patch_max_timestamp,
    validate_batches,
};

fuzz_target!(|data: &[u8]| {
    let bytes = Bytes::copy_from_slice(data);

    // Read path: split without validating.
    let mut consumed = 0usize;
    let mut failed = false;
    for item in batches(&bytes) {
        assert!(!failed, "batches() yielded an item after an error");
        match item {
            Ok((header, batch)) => {
                assert!(batch.len() >= BATCH_HEADER_LEN);
                assert_eq!(batch.len(), header.total_len());
                assert_eq!(&bytes[consumed..consumed + batch.len()], &batch[..]);
                assert_eq!(BatchHeader::parse(&batch), Ok(header));
                consumed += batch.len();
                // What the fetch / list-offsets code asks of each stored batch.
                let _ = header.last_offset();
                let _ = header.compression();
                let _ = header.last_sequence();
                let _ = (
                    header.is_log_append_time(),
                    header.is_transactional(),
                    header.is_control(),
                    header.is_idempotent(),
                );
            }
            Err(_) => failed = true,
        }
    }
    if !failed {
        assert_eq!(consumed, bytes.len(), "batches() stopped early without an error");
    }

    // Produce path: full validation, then the in-place patches the partition log applies.
    let Ok(valid) = validate_batches(&bytes) else {
        return;
    };
    assert!(!failed, "validate_batches accepted what batches() rejected");
    assert_eq!(
        valid.iter().map(|(_, b)| b.len()).sum::<usize>(),
        bytes.len()
    );
    for (header, batch) in valid {
        assert_eq!(header.validate(&batch), Ok(()));
        let _ = header.last_sequence();
        let mut stored = batch.to_vec();
        patch_base_offset(&mut stored, 1 << 40);
        let patched = BatchHeader::parse(&stored).expect("patched batch parses");
        assert_eq!(patched.base_offset, 1 << 40);
        assert_eq!(patched.validate(&stored), Ok(()), "base offset is outside the CRC");
        patch_max_timestamp(&mut stored, 1_700_000_000_000);
        let patched = BatchHeader::parse(&stored).expect("patched batch parses");
        assert!(patched.is_log_append_time());
        assert_eq!(patched.max_timestamp, 1_700_000_000_000);
        assert_eq!(patched.validate(&stored), Ok(()), "CRC recomputed after patch");
    }
});
