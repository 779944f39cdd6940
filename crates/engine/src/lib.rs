//! The StreamHouse log engine: broker semantics with no protocol attached.
//!
//! Layer: above `metadata` and `storage`, below the Kafka and HTTP servers. The engine
//! appends Kafka record batches to partitions this agent leads (validating them, assigning
//! offsets by patching `baseOffset`, checking idempotent-producer sequences), buffers every
//! led partition, and flushes one object per flush interval holding all of them; one
//! metadata transaction per flush, fenced by lease epochs, makes the data visible, and only
//! then do appends resolve. Reads come from an in-memory tail, then a bounded cache, then
//! ranged GETs. Background tasks keep leases, enforce retention, merge small objects into
//! per-partition segments and collect unreferenced objects.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use streamhouse_engine::{Engine, EngineParts};
//! use streamhouse_metadata::{AgentInfo, TopicConfig};
//! use streamhouse_types::{SystemClock, TopicPartition};
//!
//! let engine = Engine::start(EngineParts {
//!     metadata: streamhouse_metadata::connect("sqlite::memory:", 1).await?,
//!     object_store: streamhouse_storage::open_object_store("memory://", &[])?.store,
//!     remote_store: false,
//!     config: Default::default(),
//!     agent: AgentInfo::new("agent-1", "127.0.0.1:9092"),
//!     clock: Arc::new(SystemClock),
//!     metrics: streamhouse_metrics::Metrics::new("doc"),
//! })
//! .await?;
//! engine.create_topic("orders", 1, TopicConfig::default()).await?;
//! let tp = TopicPartition::new("orders", 0);
//! let read = engine.read(&tp, 0, 1 << 20).await?;
//! assert!(read.is_empty() && read.high_watermark == 0);
//! engine.shutdown(std::time::Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod blocks;
mod engine;
mod error;
mod flush;
mod housekeeping;
mod leases;
mod partition;
mod read;

pub use blocks::Records;
pub use engine::{
    Engine, EngineParts, EngineStats, Submitted, validate_new_topic, validate_topic_config,
};
pub use error::{Error, Result};
pub use partition::AppendOutcome;
pub use read::ReadResult;
