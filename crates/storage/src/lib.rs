//! Segment objects on object storage.
//!
//! Layer: below the engine, beside metadata; it knows nothing of leases or offsets'
//! meaning. It provides:
//! - [`format`]: the object layout — each partition's batches stored contiguously, then an
//!   index and a footer, so an object is self-describing;
//! - [`SegmentStore`]: uploads with retry and backoff (never giving up on accepted data
//!   unless told to stop), and ranged reads through a bounded in-memory cache;
//! - [`open_object_store`]: builds a store from a URL (`file://`, `memory://`, `s3://`);
//! - [`InstrumentedStore`]: counts requests and bytes per operation.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> streamhouse_storage::Result<()> {
//! use streamhouse_storage::{open_object_store, format::{ObjectBuilder, ChunkMeta}, SegmentStore, SegmentStoreConfig};
//! let opened = open_object_store("memory://", &[])?;
//! let store = SegmentStore::new(opened.store, SegmentStoreConfig::default());
//! let mut object = ObjectBuilder::new();
//! let range = object.push_chunk(ChunkMeta::example(), vec![bytes::Bytes::from_static(b"batch bytes")]);
//! let key = store.new_flush_key();
//! store.put(&key, object.finish()).await?;
//! let bytes = store.read_range(&key, range.start, range.end - range.start).await?;
//! assert_eq!(&bytes[..], b"batch bytes");
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod error;
pub mod format;
mod fsync;
mod instrumented;
mod segment_store;
mod url;

pub use error::{Error, Result};
pub use instrumented::{InstrumentedStore, OpStats, StorageCounters, StorageStats};
pub use segment_store::{
    FLUSH_PREFIX, MERGED_PREFIX, SegmentStore, SegmentStoreConfig, StoredObject,
};
pub use url::{LocalWrites, OpenedStore, open_object_store, open_object_store_with};
