//! Building engines over chosen stores, with test-friendly tuning.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::ObjectStore;
use streamhouse_config::EngineConfig;
use streamhouse_engine::{Engine, EngineParts};
use streamhouse_metadata::{AgentInfo, MetadataStore};
use streamhouse_storage::{InstrumentedStore, StorageCounters};
use streamhouse_types::{Clock, SystemClock};

pub(crate) fn fast_config() -> EngineConfig {
    EngineConfig {
        flush_interval: Some(Duration::from_millis(5)),
        heartbeat_interval: Duration::from_millis(200),
        lease_ttl: Duration::from_secs(5),
        ..EngineConfig::default()
    }
}

/// Stores shared by every engine a test starts, so restarts see the same data.
pub(crate) struct Stores {
    pub(crate) metadata: Arc<dyn MetadataStore>,
    pub(crate) objects: Arc<dyn ObjectStore>,
    pub(crate) counters: Arc<StorageCounters>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) _dir: Option<tempfile::TempDir>,
}

impl Stores {
    /// SQLite file + local filesystem objects in a temp dir: the embedded setup.
    pub(crate) async fn embedded() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let metadata =
            streamhouse_metadata::connect(&format!("sqlite://{}/meta.db", dir.path().display()), 4)
                .await
                .expect("sqlite");
        let objects = streamhouse_storage::open_object_store(
            &format!("file://{}/objects", dir.path().display()),
            &[],
        )
        .expect("file store")
        .store;
        Self::over(metadata, objects, Some(dir))
    }

    pub(crate) fn over(
        metadata: Arc<dyn MetadataStore>,
        objects: Arc<dyn ObjectStore>,
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        let counters = Arc::new(StorageCounters::default());
        let objects: Arc<dyn ObjectStore> =
            Arc::new(InstrumentedStore::new(objects, Arc::clone(&counters)));
        Self {
            metadata,
            objects,
            counters,
            clock: Arc::new(SystemClock),
            _dir: dir,
        }
    }

    pub(crate) async fn engine(&self, config: EngineConfig) -> Engine {
        self.engine_as("agent-1", config).await
    }

    /// An engine with one single-partition topic `t`.
    pub(crate) async fn single_partition(
        &self,
        config: EngineConfig,
    ) -> (Engine, streamhouse_types::TopicPartition) {
        let engine = self.engine(config).await;
        engine
            .create_topic("t", 1, streamhouse_metadata::TopicConfig::default())
            .await
            .expect("create");
        (engine, streamhouse_types::TopicPartition::new("t", 0))
    }

    pub(crate) async fn engine_as(&self, agent: &str, config: EngineConfig) -> Engine {
        Engine::start(EngineParts {
            metadata: Arc::clone(&self.metadata),
            object_store: Arc::clone(&self.objects),
            remote_store: false,
            config,
            agent: AgentInfo::new(agent, "127.0.0.1:9092"),
            clock: Arc::clone(&self.clock),
            metrics: streamhouse_metrics::Metrics::new("test"),
        })
        .await
        .expect("engine starts")
    }
}

pub(crate) fn batch(seed: u64, records: usize, value_len: usize) -> Bytes {
    streamhouse_test_support::batches::sample_batch(seed, records, value_len, 1_700_000_000_000)
}

pub(crate) fn batch_at(seed: u64, records: usize, timestamp: i64) -> Bytes {
    streamhouse_test_support::batches::sample_batch(seed, records, 50, timestamp)
}

/// A batch's bytes with the base offset field zeroed, for comparing stored to sent.
pub(crate) fn without_base_offset(batch: &[u8]) -> Vec<u8> {
    let mut copy = batch.to_vec();
    copy[..8].fill(0);
    copy
}

/// Every batch in `bytes`, split.
pub(crate) fn split(bytes: &Bytes) -> Vec<Bytes> {
    streamhouse_records::batches(bytes)
        .map(|b| b.expect("valid stored batch").1)
        .collect()
}

pub(crate) async fn read_all(
    engine: &Engine,
    tp: &streamhouse_types::TopicPartition,
    from: i64,
) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut offset = from;
    loop {
        let read = engine.read(tp, offset, 256 << 10).await.expect("read");
        if read.is_empty() {
            return out;
        }
        for b in split(&read.concat()) {
            let header = streamhouse_records::BatchHeader::parse(&b).expect("header");
            offset = header.last_offset() + 1;
            out.push(b);
        }
    }
}

/// Polls `condition` until it holds; panics after 20 s so a broken test fails, not hangs.
pub(crate) async fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A partition's high watermark, as a reader sees it.
pub(crate) async fn high_watermark(engine: &Engine, tp: &streamhouse_types::TopicPartition) -> i64 {
    engine.read(tp, 0, 0).await.expect("read").high_watermark
}
