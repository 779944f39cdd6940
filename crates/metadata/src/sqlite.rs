//! The SQLite backend, for embedded single-node deployments and tests.
//!
//! Durability: WAL journal with `synchronous=FULL`, because an acknowledged produce depends
//! on the flush commit being on disk. Every write transaction starts with `BEGIN IMMEDIATE`
//! so it takes the write lock up front (a deferred transaction that reads and then writes can
//! fail with `SQLITE_BUSY` instead of waiting for the busy timeout).

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, Transaction};

use crate::Result;
use crate::common_impl::{Dialect, impl_metadata_store};
use crate::shared::{db, encode_keys, sql};

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages between automatic checkpoints (SQLite's default is 1,000).
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// A [`MetadataStore`](crate::MetadataStore) on SQLite: a file (`sqlite://path`, created if
/// missing) or a private in-memory database (`sqlite::memory:`).
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection for write transactions. SQLite admits one writer at a time anyway, so
    /// a single connection queues writers in the pool instead of on the database lock, and
    /// the flush commit (many times a second) always runs on the same warm worker thread
    /// rather than on whichever of the pool's threads is next.
    writer: SqlitePool,
    /// For an in-memory database: a connection that is never used, so the database lives as
    /// long as the store even if the pool closes its connection.
    _keep_alive: Option<Mutex<SqliteConnection>>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database `url` names and migrates it.
    ///
    /// An in-memory database gets a single pooled connection whatever `max_connections` says,
    /// so that every query sees the same database and no shared-cache table locks arise.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut options = SqliteConnectOptions::from_str(url)
            .map_err(db("parse SQLite URL"))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full)
            // Multi-row flush statements keep a statement journal; in memory it costs no
            // file writes (a rollback journal for one statement, not durable data).
            .pragma("temp_store", "MEMORY")
            // Checkpoint every ~40 MiB of WAL rather than 4 MiB: a flush over many partitions
            // dirties a page per partition, and each checkpoint rewrites and fsyncs them all.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        // A SQLite connection is a library handle on a worker thread, not a socket that can
        // go stale: a ping before each use only adds a thread round trip.
        let mut pool_options = SqlitePoolOptions::new().test_before_acquire(false);
        let mut keep_alive = None;
        if in_memory {
            let conn = SqliteConnection::connect_with(&options)
                .await
                .map_err(db("open in-memory SQLite"))?;
            keep_alive = Some(Mutex::new(conn));
            pool_options = pool_options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        } else {
            options = options.journal_mode(SqliteJournalMode::Wal);
            pool_options = pool_options.max_connections(max_connections.max(1));
        }
        let pool = pool_options
            .connect_with(options.clone())
            .await
            .map_err(db("open SQLite"))?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let writer = if in_memory {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .connect_with(options)
                .await
                .map_err(db("open SQLite writer"))?
        };
        tracing::debug!(url, in_memory, "SQLite metadata store ready");
        Ok(Self {
            pool,
            writer,
            _keep_alive: keep_alive,
        })
    }
}

impl Dialect for SqliteStore {
    type Database = Sqlite;

    const BACKEND: &'static str = "sqlite";

    // SQLite has no row locks: the `BEGIN IMMEDIATE` of every write transaction already holds
    // the database write lock, so plain reads are enough.
    const TOPIC_FOR_WRITE: &'static str = sql::TOPIC_BY_NAME;
    const PARTITION_BOUNDS_FOR_WRITE: &'static str = "SELECT leader_epoch, log_start_offset, \
         high_watermark FROM partitions WHERE topic_id = $1 AND partition = $2";

    /// Begins a transaction that holds the database write lock from its first statement.
    async fn write_tx(&self, op: &'static str) -> Result<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db(op))
    }

    /// SQLite has no array parameters: the keys go in as one JSON array, read by `json_each`.
    async fn referenced_among(&self, keys: &[String]) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT object_key FROM segments \
             WHERE object_key IN (SELECT value FROM json_each($1))",
        )
        .bind(encode_keys(keys)?)
        .fetch_all(&self.pool)
        .await
        .map_err(db("find referenced objects"))
    }

    /// SQLite has no sequences: ids come from the one-row counter table `producer_ids`.
    async fn next_producer_id(&self) -> Result<i64> {
        sqlx::query_scalar(
            "UPDATE producer_ids SET next_id = next_id + 1 WHERE id = 1 RETURNING next_id - 1",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db("allocate producer id"))
    }
}

impl_metadata_store!(SqliteStore);
