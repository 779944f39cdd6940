//! The PostgreSQL backend, for clusters of agents sharing one metadata database.
//!
//! Runs at READ COMMITTED. Every write that depends on leadership is a conditional `UPDATE`
//! whose row count says whether it applied (a concurrent writer's `UPDATE` of the same row
//! waits for ours and then re-checks its condition), or reads the partition row
//! `FOR UPDATE` first. Flush commits lock partitions in a fixed order so that concurrent
//! flushes cannot deadlock.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use crate::Result;
use crate::common_impl::{Dialect, impl_metadata_store};
use crate::shared::db;

/// A [`MetadataStore`](crate::MetadataStore) on PostgreSQL (`postgres://user@host:port/db`).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects a pool of up to `max_connections` to the database `url` names and migrates
    /// it (concurrent migrations from several agents are serialized by an advisory lock).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        // READ COMMITTED whatever the server's default: the conditional updates are correct
        // there, and stricter levels would only add serialization failures to retry. (The
        // backslash escapes the space in the startup options string.)
        let options = PgConnectOptions::from_str(url)
            .map_err(db("parse PostgreSQL URL"))?
            .options([("default_transaction_isolation", r"read\ committed")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await
            .map_err(db("connect to PostgreSQL"))?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        tracing::debug!(max_connections, "PostgreSQL metadata store ready");
        Ok(Self { pool })
    }
}

impl Dialect for PostgresStore {
    type Database = Postgres;

    const BACKEND: &'static str = "postgres";

    // READ COMMITTED does not keep a row that was read from changing: lock it `FOR UPDATE`.
    const TOPIC_FOR_WRITE: &'static str = "SELECT id, name, partition_count, retention_ms, \
         retention_bytes, max_message_bytes, cleanup_policy, timestamp_type, created_at_ms \
         FROM topics WHERE name = $1 FOR UPDATE";
    const PARTITION_BOUNDS_FOR_WRITE: &'static str = "SELECT leader_epoch, log_start_offset, \
         high_watermark FROM partitions WHERE topic_id = $1 AND partition = $2 FOR UPDATE";

    /// Begins a READ COMMITTED transaction (the connection default set in `connect`).
    async fn write_tx(&self, op: &'static str) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db(op))
    }

    async fn referenced_among(&self, keys: &[String]) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT DISTINCT object_key FROM segments WHERE object_key = ANY($1)")
            .bind(keys)
            .fetch_all(&self.pool)
            .await
            .map_err(db("find referenced objects"))
    }

    /// Ids come from the sequence `producer_ids`, which never hands one out twice (even to
    /// transactions that roll back).
    async fn next_producer_id(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT nextval('producer_ids')")
            .fetch_one(&self.pool)
            .await
            .map_err(db("allocate producer id"))
    }
}

impl_metadata_store!(PostgresStore);
