//! The SQLite backend: conformance on a file and in memory, plus SQLite specifics.

use std::sync::Arc;

use sqlx::Connection as _;
use streamhouse_metadata::{
    CommitOutcome, Error, MetadataStore, PartitionCommit, SegmentRef, SqliteStore, TopicConfig,
    connect,
};
use tempfile::TempDir;

use crate::concurrency;

/// A store on a SQLite file in a temporary directory.
pub(crate) struct FileFixture {
    pub(crate) store: Arc<dyn MetadataStore>,
    _dir: TempDir,
}

impl FileFixture {
    pub(crate) async fn new() -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::connect(&file_url(&dir), 4)
            .await
            .expect("open SQLite file store");
        Some(Self {
            store: Arc::new(store),
            _dir: dir,
        })
    }

    pub(crate) async fn finish(self) {}
}

/// A store on `sqlite::memory:`.
pub(crate) struct MemoryFixture {
    pub(crate) store: Arc<dyn MetadataStore>,
}

impl MemoryFixture {
    pub(crate) async fn new() -> Option<Self> {
        let store = connect("sqlite::memory:", 4)
            .await
            .expect("open in-memory store");
        Some(Self { store })
    }

    pub(crate) async fn finish(self) {}
}

fn file_url(dir: &TempDir) -> String {
    format!("sqlite://{}", dir.path().join("nested-name.db").display())
}

mod file {
    crate::conformance_tests!(super::FileFixture);
}

mod memory {
    crate::conformance_tests!(super::MemoryFixture);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_racing_acquirers() {
    let fixture = FileFixture::new().await.expect("fixture");
    concurrency::racing_acquirers(Arc::clone(&fixture.store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_racing_flushes() {
    let fixture = FileFixture::new().await.expect("fixture");
    concurrency::racing_flushes(Arc::clone(&fixture.store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_flush_against_lease_steal() {
    let fixture = FileFixture::new().await.expect("fixture");
    concurrency::flush_against_lease_steal(Arc::clone(&fixture.store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_racing_group_claims() {
    let fixture = FileFixture::new().await.expect("fixture");
    concurrency::racing_group_claims(Arc::clone(&fixture.store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_group_commit_against_claim() {
    let fixture = FileFixture::new().await.expect("fixture");
    concurrency::group_commit_against_claim(Arc::clone(&fixture.store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_is_one_database_for_many_tasks() {
    // max_connections is ignored for memory: every task must see the same database.
    let store = connect("sqlite::memory:", 8)
        .await
        .expect("open in-memory store");
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .create_topic(&format!("t{i:02}"), 1, &TopicConfig::default(), 0)
                    .await
                    .expect("create_topic");
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(store.list_topics().await.expect("list_topics").len(), 16);
    concurrency::racing_flushes(store).await;

    let other = connect("sqlite::memory:", 1)
        .await
        .expect("open in-memory store");
    assert!(
        other.list_topics().await.expect("list_topics").is_empty(),
        "each store is private"
    );
}

#[tokio::test]
async fn file_store_persists_and_uses_wal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = file_url(&dir);
    let store = connect(&url, 2).await.expect("open");
    assert_eq!(store.backend(), "sqlite");
    let topic = store
        .create_topic("kept", 1, &TopicConfig::default(), 7)
        .await
        .expect("create_topic");
    let (lease, _) = store
        .acquire_lease(topic.id, 0, "agent", 0, 1_000)
        .await
        .expect("acquire_lease")
        .expect("granted");
    let segment = SegmentRef {
        base_offset: 0,
        last_offset: 4,
        max_timestamp: 1,
        object_key: "k".to_owned(),
        byte_offset: 0,
        byte_length: 10,
        record_count: 5,
    };
    let outcome = store
        .commit_flush(&[PartitionCommit {
            lease,
            segment: segment.clone(),
            producers: Vec::new(),
        }])
        .await
        .expect("commit_flush");
    assert_eq!(outcome, vec![CommitOutcome::Committed]);
    drop(store);

    // Reopening runs the migrations again (a no-op) and finds everything.
    let store = connect(&url, 2).await.expect("reopen");
    assert_eq!(
        store.get_topic("kept").await.expect("get_topic"),
        Some(topic.clone())
    );
    let state = store
        .partition("kept", 0)
        .await
        .expect("partition")
        .expect("exists");
    assert_eq!((state.high_watermark, state.leader_epoch), (5, 1));
    assert_eq!(
        store.segments(topic.id, 0, 0, 10).await.expect("segments"),
        vec![segment]
    );

    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("raw connection");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("journal_mode");
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn connect_rejects_unknown_urls() {
    let err = connect("mysql://localhost/db", 1)
        .await
        .expect_err("unsupported");
    assert!(matches!(err, Error::UnsupportedUrl(_)), "{err:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = format!("sqlite://{}", dir.path().join("no/such/dir/x.db").display());
    assert!(connect(&missing, 1).await.is_err());
}
