//! Plain running totals kept beside labelled series, so rates can be sampled without
//! walking every label set.

use std::sync::atomic::{AtomicU64, Ordering};

/// Records and bytes seen so far, over all topics.
#[derive(Debug, Default)]
pub struct Totals {
    records: AtomicU64,
    bytes: AtomicU64,
}

impl Totals {
    pub(crate) fn add(&self, records: u64, bytes: u64) {
        self.records.fetch_add(records, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Records so far.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// Bytes so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}
