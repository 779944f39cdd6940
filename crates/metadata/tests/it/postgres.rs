//! The PostgreSQL backend: conformance on a fresh database per test, plus races between
//! agents. Skipped loudly when no server is running (failing under `CI=true`).

use std::sync::Arc;

use streamhouse_metadata::{MetadataStore, PostgresStore, TopicConfig, connect};
use streamhouse_test_support::postgres::TestDatabase;

use crate::concurrency;

/// A store on its own database, dropped at the end.
pub(crate) struct Fixture {
    pub(crate) store: Arc<dyn MetadataStore>,
    db: TestDatabase,
}

impl Fixture {
    pub(crate) async fn new() -> Option<Self> {
        let db = TestDatabase::create()
            .await
            .expect("create test database")?;
        let store = PostgresStore::connect(&db.url, 8)
            .await
            .expect("connect PostgreSQL store");
        Some(Self {
            store: Arc::new(store),
            db,
        })
    }

    pub(crate) async fn finish(self) {
        drop(self.store);
        self.db.drop_database().await.expect("drop test database");
    }
}

mod suite {
    crate::conformance_tests!(super::Fixture);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_acquirers() {
    let Some(fixture) = Fixture::new().await else {
        return;
    };
    concurrency::racing_acquirers(Arc::clone(&fixture.store)).await;
    fixture.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_flushes() {
    let Some(fixture) = Fixture::new().await else {
        return;
    };
    concurrency::racing_flushes(Arc::clone(&fixture.store)).await;
    fixture.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flush_against_lease_steal() {
    let Some(fixture) = Fixture::new().await else {
        return;
    };
    concurrency::flush_against_lease_steal(Arc::clone(&fixture.store)).await;
    fixture.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_group_claims() {
    let Some(fixture) = Fixture::new().await else {
        return;
    };
    concurrency::racing_group_claims(Arc::clone(&fixture.store)).await;
    fixture.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_against_claim() {
    let Some(fixture) = Fixture::new().await else {
        return;
    };
    concurrency::group_commit_against_claim(Arc::clone(&fixture.store)).await;
    fixture.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agents_connecting_at_once_share_one_schema() {
    let Some(db) = TestDatabase::create().await.expect("create test database") else {
        return;
    };
    let connects: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { connect(&url, 2).await })
        })
        .collect();
    let mut stores = Vec::new();
    for task in connects {
        stores.push(task.await.expect("task").expect("connect and migrate"));
    }
    assert!(stores.iter().all(|s| s.backend() == "postgres"));
    stores[0]
        .create_topic("shared", 2, &TopicConfig::default(), 0)
        .await
        .expect("create_topic");
    for store in &stores {
        assert_eq!(
            store
                .partitions(Some("shared"))
                .await
                .expect("partitions")
                .len(),
            2
        );
    }
    drop(stores);
    db.drop_database().await.expect("drop test database");
}
