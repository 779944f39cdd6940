//! The [`MetadataStore`](crate::MetadataStore) implementation both backends share.
//!
//! Almost every method runs the same statements (see [`crate::shared::sql`]) with the same
//! binds and the same decoding on either driver. Writing those bodies once as generic code
//! over `sqlx::Database` would need a bound per bound type, per row type and per executor,
//! so instead [`impl_metadata_store!`] stamps the one text out for each concrete store, where
//! every type is known. What really differs between the backends — how a write transaction
//! begins, which rows a write transaction must lock, and the few statements whose SQL is
//! dialect-specific — is the [`Dialect`] each backend implements by hand.

use sqlx::Transaction;

use crate::Result;

/// What a backend writes by hand: the parts of a store whose SQL or locking differs between
/// SQLite and PostgreSQL. [`impl_metadata_store!`] builds the rest of
/// [`MetadataStore`](crate::MetadataStore) on it.
pub(crate) trait Dialect {
    /// The sqlx driver.
    type Database: sqlx::Database;

    /// What [`MetadataStore::backend`](crate::MetadataStore::backend) reports.
    const BACKEND: &'static str;

    /// The topic named `$1`, read (as a [`TopicRow`](crate::shared::TopicRow)) inside a write
    /// transaction that is about to change it; it must not change under the transaction
    /// until it ends.
    const TOPIC_FOR_WRITE: &'static str;

    /// `leader_epoch, log_start_offset, high_watermark` of partition `$2` of topic id `$1`,
    /// read inside a write transaction to fence it; the row must not change under the
    /// transaction until it ends.
    const PARTITION_BOUNDS_FOR_WRITE: &'static str;

    /// Begins a write transaction (`op` names the operation in errors).
    async fn write_tx(&self, op: &'static str) -> Result<Transaction<'static, Self::Database>>;

    /// Which of `keys` (never empty) some segment row references, each once.
    async fn referenced_among(&self, keys: &[String]) -> Result<Vec<String>>;

    /// A fresh producer id, unique across the cluster.
    async fn next_producer_id(&self) -> Result<i64>;
}

/// Implements [`MetadataStore`](crate::MetadataStore) for `$store`, which must implement
/// [`Dialect`] and have a `pool` field that is a pool of its
/// [`Dialect::Database`].
macro_rules! impl_metadata_store {
    ($store:ty) => {
        // An anonymous const keeps these imports out of the backend module's namespace.
        const _: () = {
            use std::collections::HashSet;

            use async_trait::async_trait;
            use sqlx::Transaction;
            use streamhouse_types::{Offset, PartitionId, TimestampMs};
            use uuid::Uuid;

            use $crate::common_impl::Dialect;
            use $crate::shared::{
                AgentRow, COMMIT_FLUSH, COMMIT_ROWS_PER_STATEMENT, GroupOffsetRow, GroupRow,
                PartitionRow, ProducerStateRow, SegmentRow, TopicRow, cache_statement,
                check_commits, check_partition_count, check_partition_growth, commit_waves, db,
                encode_batches, is_unique_violation, new_topic_id, parse_topic_id, rows_match,
                settle_outcomes, sql, valid_replacement,
            };
            use $crate::{
                AgentInfo, CommitOutcome, Error, GroupOffset, LeaseEpoch, MetadataStore,
                PartitionCommit, PartitionSize, PartitionState, ProducerState, Result, SegmentRef,
                StoredGroup, Topic, TopicConfig,
            };

            /// A write transaction of this backend.
            type Tx = Transaction<'static, <$store as Dialect>::Database>;

            impl $store {
                /// The topic named `name`, guarded against concurrent changes until `tx`
                /// ends. [`Error::UnknownTopic`] if there is none.
                async fn topic_for_write(
                    tx: &mut Tx,
                    name: &str,
                    op: &'static str,
                ) -> Result<Topic> {
                    sqlx::query_as::<_, TopicRow>(<Self as Dialect>::TOPIC_FOR_WRITE)
                        .bind(name)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(db(op))?
                        .ok_or_else(|| Error::UnknownTopic(name.to_owned()))?
                        .into_topic()
                }

                /// The log start and high watermark of a partition, checked against `lease`
                /// and guarded against concurrent changes until `tx` ends.
                async fn fenced_bounds(
                    tx: &mut Tx,
                    lease: LeaseEpoch,
                    op: &'static str,
                ) -> Result<(Offset, Offset)> {
                    let row: Option<(i32, i64, i64)> =
                        sqlx::query_as(<Self as Dialect>::PARTITION_BOUNDS_FOR_WRITE)
                            .bind(lease.topic_id.to_string())
                            .bind(lease.partition)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(db(op))?;
                    match row {
                        None => Err(Error::UnknownPartition {
                            topic_id: lease.topic_id,
                            partition: lease.partition,
                        }),
                        Some((epoch, _, _)) if epoch != lease.epoch => Err(Error::Fenced {
                            topic_id: lease.topic_id,
                            partition: lease.partition,
                            epoch: lease.epoch,
                        }),
                        Some((_, log_start, high_watermark)) => Ok((log_start, high_watermark)),
                    }
                }

                /// Checks that `group` is still coordinated at `epoch` and keeps it so until
                /// `tx` ends (a concurrent claim waits for `tx`). [`Error::GroupFenced`] if
                /// not, or if the group has no record.
                async fn fence_group(
                    tx: &mut Tx,
                    group: &str,
                    epoch: i64,
                    op: &'static str,
                ) -> Result<()> {
                    let held = sqlx::query(sql::FENCE_GROUP)
                        .bind(group)
                        .bind(epoch)
                        .execute(&mut **tx)
                        .await
                        .map_err(db(op))?
                        .rows_affected();
                    if held == 0 {
                        return Err(Error::GroupFenced {
                            group: group.to_owned(),
                            epoch,
                        });
                    }
                    Ok(())
                }

                /// Inserts segment rows (topic id, partition, row) inside a transaction, up
                /// to [`COMMIT_ROWS_PER_STATEMENT`] per statement.
                async fn insert_segments(
                    tx: &mut Tx,
                    rows: &[(String, PartitionId, &SegmentRef)],
                    op: &'static str,
                ) -> Result<()> {
                    for rows in rows.chunks(COMMIT_ROWS_PER_STATEMENT) {
                        let mut query = sqlx::QueryBuilder::<<$store as Dialect>::Database>::new(
                            sql::INSERT_SEGMENTS,
                        );
                        query.push_values(rows, |mut row, (topic_id, partition, segment)| {
                            row.push_bind(topic_id.clone())
                                .push_bind(*partition)
                                .push_bind(segment.base_offset)
                                .push_bind(segment.last_offset)
                                .push_bind(segment.max_timestamp)
                                .push_bind(segment.object_key.clone())
                                .push_bind(segment.byte_offset)
                                .push_bind(segment.byte_length)
                                .push_bind(segment.record_count);
                        });
                        query
                            .build()
                            .persistent(cache_statement(rows.len()))
                            .execute(&mut **tx)
                            .await
                            .map_err(db(op))?;
                    }
                    Ok(())
                }

                /// Commits one wave of flushed runs (`wave` indexes `commits`, each partition
                /// at most once) with a few multi-row statements rather than several per run:
                /// a flush over a thousand partitions costs a handful of round trips.
                /// Records each run's outcome in `outcomes`.
                async fn commit_wave(
                    tx: &mut Tx,
                    commits: &[PartitionCommit],
                    wave: &[usize],
                    outcomes: &mut [CommitOutcome],
                ) -> Result<()> {
                    type Db = <$store as Dialect>::Database;
                    // 1. The fenced high-watermark moves; the rows returned are the runs
                    //    that continue their partition under the lease they were written with.
                    let mut advanced: HashSet<(String, PartitionId)> =
                        HashSet::with_capacity(wave.len());
                    for rows in wave.chunks(COMMIT_ROWS_PER_STATEMENT) {
                        let mut query =
                            sqlx::QueryBuilder::<Db>::new(sql::ADVANCE_HIGH_WATERMARKS_WITH);
                        query.push_values(rows, |mut row, &i| {
                            let PartitionCommit { lease, segment, .. } = &commits[i];
                            row.push_bind(lease.topic_id.to_string())
                                .push_bind(lease.partition)
                                .push_bind(lease.epoch)
                                .push_bind(segment.base_offset)
                                .push_bind(segment.last_offset + 1);
                        });
                        query.push(sql::ADVANCE_HIGH_WATERMARKS_UPDATE);
                        let moved: Vec<(String, PartitionId)> = query
                            .build_query_as()
                            .persistent(cache_statement(rows.len()))
                            .fetch_all(&mut **tx)
                            .await
                            .map_err(db(COMMIT_FLUSH))?;
                        advanced.extend(moved);
                    }
                    // 2. A run that did not continue its partition was either committed
                    //    before (a retried commit) or fenced by a newer lease.
                    let mut committed = Vec::with_capacity(wave.len());
                    for &i in wave {
                        let PartitionCommit { lease, segment, .. } = &commits[i];
                        let id = lease.topic_id.to_string();
                        if advanced.contains(&(id.clone(), lease.partition)) {
                            committed.push(i);
                            continue;
                        }
                        let key: Option<String> = sqlx::query_scalar(sql::SEGMENT_KEY_AT)
                            .bind(&id)
                            .bind(lease.partition)
                            .bind(segment.base_offset)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(db(COMMIT_FLUSH))?;
                        outcomes[i] = if key.as_deref() == Some(segment.object_key.as_str()) {
                            CommitOutcome::AlreadyCommitted
                        } else {
                            CommitOutcome::Fenced
                        };
                    }
                    // 3. The segment rows and producer states of the runs that advanced.
                    let segments: Vec<_> = committed
                        .iter()
                        .map(|&i| {
                            let PartitionCommit { lease, segment, .. } = &commits[i];
                            (lease.topic_id.to_string(), lease.partition, segment)
                        })
                        .collect();
                    Self::insert_segments(tx, &segments, COMMIT_FLUSH).await?;
                    let mut producers = Vec::new();
                    for &i in &committed {
                        let lease = &commits[i].lease;
                        for producer in &commits[i].producers {
                            producers.push((lease, producer, encode_batches(&producer.batches)?));
                        }
                    }
                    for rows in producers.chunks(COMMIT_ROWS_PER_STATEMENT) {
                        let mut query = sqlx::QueryBuilder::<Db>::new(sql::UPSERT_PRODUCER_STATES);
                        query.push_values(rows, |mut row, (lease, producer, batches)| {
                            row.push_bind(lease.topic_id.to_string())
                                .push_bind(lease.partition)
                                .push_bind(producer.producer_id)
                                .push_bind(producer.producer_epoch)
                                .push_bind(batches.clone());
                        });
                        query.push(sql::UPSERT_PRODUCER_STATES_CONFLICT);
                        query
                            .build()
                            .persistent(cache_statement(rows.len()))
                            .execute(&mut **tx)
                            .await
                            .map_err(db(COMMIT_FLUSH))?;
                    }
                    Ok(())
                }
            }

            #[async_trait]
            impl MetadataStore for $store {
                fn backend(&self) -> &'static str {
                    <Self as Dialect>::BACKEND
                }

                async fn ping(&self) -> Result<()> {
                    sqlx::query("SELECT 1")
                        .execute(&self.pool)
                        .await
                        .map_err(db("ping"))?;
                    Ok(())
                }

                async fn create_topic(
                    &self,
                    name: &str,
                    partition_count: i32,
                    config: &TopicConfig,
                    now_ms: TimestampMs,
                ) -> Result<Topic> {
                    const OP: &str = "create topic";
                    check_partition_count(name, partition_count)?;
                    let topic = Topic {
                        id: new_topic_id(),
                        name: name.to_owned(),
                        partition_count,
                        config: config.clone(),
                        created_at_ms: now_ms,
                    };
                    let id = topic.id.to_string();
                    let mut tx = self.write_tx(OP).await?;
                    let inserted = sqlx::query(sql::INSERT_TOPIC)
                        .bind(&id)
                        .bind(name)
                        .bind(partition_count)
                        .bind(config.retention_ms)
                        .bind(config.retention_bytes)
                        .bind(config.max_message_bytes)
                        .bind(config.cleanup_policy.as_str())
                        .bind(config.timestamp_type.as_str())
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await;
                    match inserted {
                        Err(err) if is_unique_violation(&err) => {
                            return Err(Error::TopicExists(name.to_owned()));
                        }
                        other => other.map_err(db(OP))?,
                    };
                    sqlx::query(sql::INSERT_PARTITIONS)
                        .bind(&id)
                        .bind(0_i32)
                        .bind(partition_count)
                        .execute(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    tx.commit().await.map_err(db(OP))?;
                    Ok(topic)
                }

                async fn get_topic(&self, name: &str) -> Result<Option<Topic>> {
                    sqlx::query_as::<_, TopicRow>(sql::TOPIC_BY_NAME)
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("get topic"))?
                        .map(TopicRow::into_topic)
                        .transpose()
                }

                async fn list_topics(&self) -> Result<Vec<Topic>> {
                    sqlx::query_as::<_, TopicRow>(sql::ALL_TOPICS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("list topics"))?
                        .into_iter()
                        .map(TopicRow::into_topic)
                        .collect()
                }

                async fn update_topic_config(
                    &self,
                    name: &str,
                    config: &TopicConfig,
                ) -> Result<()> {
                    let updated = sqlx::query(sql::UPDATE_TOPIC_CONFIG)
                        .bind(name)
                        .bind(config.retention_ms)
                        .bind(config.retention_bytes)
                        .bind(config.max_message_bytes)
                        .bind(config.cleanup_policy.as_str())
                        .bind(config.timestamp_type.as_str())
                        .execute(&self.pool)
                        .await
                        .map_err(db("update topic config"))?
                        .rows_affected();
                    if updated == 0 {
                        return Err(Error::UnknownTopic(name.to_owned()));
                    }
                    Ok(())
                }

                async fn add_partitions(&self, name: &str, new_count: i32) -> Result<Topic> {
                    const OP: &str = "add partitions";
                    let mut tx = self.write_tx(OP).await?;
                    let mut topic = Self::topic_for_write(&mut tx, name, OP).await?;
                    check_partition_growth(name, topic.partition_count, new_count)?;
                    let id = topic.id.to_string();
                    sqlx::query(sql::SET_PARTITION_COUNT)
                        .bind(&id)
                        .bind(new_count)
                        .execute(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    sqlx::query(sql::INSERT_PARTITIONS)
                        .bind(&id)
                        .bind(topic.partition_count)
                        .bind(new_count)
                        .execute(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    tx.commit().await.map_err(db(OP))?;
                    topic.partition_count = new_count;
                    Ok(topic)
                }

                async fn delete_topic(&self, name: &str) -> Result<Topic> {
                    const OP: &str = "delete topic";
                    let mut tx = self.write_tx(OP).await?;
                    let topic = Self::topic_for_write(&mut tx, name, OP).await?;
                    let id = topic.id.to_string();
                    for statement in sql::DELETE_TOPIC_ROWS {
                        sqlx::query(statement)
                            .bind(&id)
                            .execute(&mut *tx)
                            .await
                            .map_err(db(OP))?;
                    }
                    sqlx::query(sql::DELETE_TOPIC_GROUP_OFFSETS)
                        .bind(name)
                        .execute(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    tx.commit().await.map_err(db(OP))?;
                    Ok(topic)
                }

                async fn partition(
                    &self,
                    topic: &str,
                    partition: PartitionId,
                ) -> Result<Option<PartitionState>> {
                    sqlx::query_as::<_, PartitionRow>(sql::PARTITION)
                        .bind(topic)
                        .bind(partition)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("get partition"))?
                        .map(PartitionRow::into_state)
                        .transpose()
                }

                async fn partitions(&self, topic: Option<&str>) -> Result<Vec<PartitionState>> {
                    let query = match topic {
                        Some(name) => {
                            sqlx::query_as::<_, PartitionRow>(sql::PARTITIONS_OF).bind(name)
                        }
                        None => sqlx::query_as::<_, PartitionRow>(sql::ALL_PARTITIONS),
                    };
                    query
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("list partitions"))?
                        .into_iter()
                        .map(PartitionRow::into_state)
                        .collect()
                }

                async fn register_agent(&self, agent: &AgentInfo) -> Result<()> {
                    sqlx::query(sql::UPSERT_AGENT)
                        .bind(&agent.id)
                        .bind(&agent.advertised_addr)
                        .bind(&agent.rack)
                        .bind(agent.started_at_ms)
                        .bind(agent.heartbeat_at_ms)
                        .execute(&self.pool)
                        .await
                        .map_err(db("register agent"))?;
                    Ok(())
                }

                async fn heartbeat_agent(
                    &self,
                    agent_id: &str,
                    now_ms: TimestampMs,
                ) -> Result<bool> {
                    let updated = sqlx::query(sql::HEARTBEAT)
                        .bind(agent_id)
                        .bind(now_ms)
                        .execute(&self.pool)
                        .await
                        .map_err(db("agent heartbeat"))?
                        .rows_affected();
                    Ok(updated > 0)
                }

                async fn deregister_agent(&self, agent_id: &str) -> Result<()> {
                    sqlx::query(sql::DELETE_AGENT)
                        .bind(agent_id)
                        .execute(&self.pool)
                        .await
                        .map_err(db("deregister agent"))?;
                    Ok(())
                }

                async fn list_agents(&self) -> Result<Vec<AgentInfo>> {
                    let rows = sqlx::query_as::<_, AgentRow>(sql::ALL_AGENTS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("list agents"))?;
                    Ok(rows.into_iter().map(AgentInfo::from).collect())
                }

                async fn acquire_lease(
                    &self,
                    topic_id: Uuid,
                    partition: PartitionId,
                    agent_id: &str,
                    now_ms: TimestampMs,
                    expires_at_ms: TimestampMs,
                ) -> Result<Option<(LeaseEpoch, PartitionState)>> {
                    const OP: &str = "acquire lease";
                    let id = topic_id.to_string();
                    let granted = sqlx::query_as::<_, PartitionRow>(sql::ACQUIRE_LEASE)
                        .bind(agent_id)
                        .bind(expires_at_ms)
                        .bind(&id)
                        .bind(partition)
                        .bind(now_ms)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db(OP))?;
                    if let Some(row) = granted {
                        let state = row.into_state()?;
                        let lease = LeaseEpoch {
                            topic_id,
                            partition,
                            epoch: state.leader_epoch,
                        };
                        return Ok(Some((lease, state)));
                    }
                    let exists: Option<i32> = sqlx::query_scalar(sql::PARTITION_EXISTS)
                        .bind(&id)
                        .bind(partition)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db(OP))?;
                    match exists {
                        Some(_) => Ok(None),
                        None => Err(Error::UnknownPartition {
                            topic_id,
                            partition,
                        }),
                    }
                }

                async fn renew_leases(
                    &self,
                    agent_id: &str,
                    leases: &[LeaseEpoch],
                    expires_at_ms: TimestampMs,
                ) -> Result<Vec<LeaseEpoch>> {
                    const OP: &str = "renew leases";
                    if leases.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut tx = self.write_tx(OP).await?;
                    let mut renewed = Vec::with_capacity(leases.len());
                    for lease in leases {
                        let updated = sqlx::query(sql::RENEW_LEASE)
                            .bind(expires_at_ms)
                            .bind(lease.topic_id.to_string())
                            .bind(lease.partition)
                            .bind(agent_id)
                            .bind(lease.epoch)
                            .execute(&mut *tx)
                            .await
                            .map_err(db(OP))?
                            .rows_affected();
                        if updated > 0 {
                            renewed.push(*lease);
                        }
                    }
                    tx.commit().await.map_err(db(OP))?;
                    Ok(renewed)
                }

                async fn release_lease(&self, agent_id: &str, lease: LeaseEpoch) -> Result<()> {
                    sqlx::query(sql::RELEASE_LEASE)
                        .bind(lease.topic_id.to_string())
                        .bind(lease.partition)
                        .bind(agent_id)
                        .bind(lease.epoch)
                        .execute(&self.pool)
                        .await
                        .map_err(db("release lease"))?;
                    Ok(())
                }

                async fn commit_flush(
                    &self,
                    commits: &[PartitionCommit],
                ) -> Result<Vec<CommitOutcome>> {
                    if commits.is_empty() {
                        return Ok(Vec::new());
                    }
                    check_commits(commits)?;
                    let mut tx = self.write_tx(COMMIT_FLUSH).await?;
                    let mut outcomes = vec![CommitOutcome::Committed; commits.len()];
                    // A partition's later runs depend on its earlier ones, so they go in
                    // later waves; within a wave every partition appears once.
                    for wave in commit_waves(commits) {
                        Self::commit_wave(&mut tx, commits, &wave, &mut outcomes).await?;
                    }
                    let (outcomes, commit) = settle_outcomes(outcomes);
                    if commit {
                        tx.commit().await.map_err(db(COMMIT_FLUSH))?;
                    } else {
                        tx.rollback().await.map_err(db(COMMIT_FLUSH))?;
                    }
                    Ok(outcomes)
                }

                async fn segments(
                    &self,
                    topic_id: Uuid,
                    partition: PartitionId,
                    from_offset: Offset,
                    limit: usize,
                ) -> Result<Vec<SegmentRef>> {
                    let rows = sqlx::query_as::<_, SegmentRow>(sql::SEGMENTS_FROM)
                        .bind(topic_id.to_string())
                        .bind(partition)
                        .bind(from_offset)
                        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("list segments"))?;
                    Ok(rows.into_iter().map(SegmentRef::from).collect())
                }

                async fn partition_sizes(
                    &self,
                    topic_id: Option<Uuid>,
                ) -> Result<Vec<PartitionSize>> {
                    let query = match topic_id {
                        Some(id) => sqlx::query_as(sql::PARTITION_SIZES_OF).bind(id.to_string()),
                        None => sqlx::query_as(sql::PARTITION_SIZES),
                    };
                    let rows: Vec<(String, i32, i64)> = query
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("sum segment sizes"))?;
                    rows.into_iter()
                        .map(|(topic_id, partition, bytes)| {
                            Ok(PartitionSize {
                                topic_id: parse_topic_id(&topic_id)?,
                                partition,
                                bytes,
                            })
                        })
                        .collect()
                }

                async fn segment_for_timestamp(
                    &self,
                    topic_id: Uuid,
                    partition: PartitionId,
                    timestamp: TimestampMs,
                ) -> Result<Option<SegmentRef>> {
                    let row = sqlx::query_as::<_, SegmentRow>(sql::SEGMENT_FOR_TIMESTAMP)
                        .bind(topic_id.to_string())
                        .bind(partition)
                        .bind(timestamp)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("find segment by timestamp"))?;
                    Ok(row.map(SegmentRef::from))
                }

                async fn advance_log_start(
                    &self,
                    lease: LeaseEpoch,
                    new_log_start: Offset,
                ) -> Result<Offset> {
                    const OP: &str = "advance log start";
                    let mut tx = self.write_tx(OP).await?;
                    let (current, high_watermark) = Self::fenced_bounds(&mut tx, lease, OP).await?;
                    let log_start = new_log_start.max(current).min(high_watermark);
                    let id = lease.topic_id.to_string();
                    if log_start != current {
                        sqlx::query(sql::SET_LOG_START)
                            .bind(log_start)
                            .bind(&id)
                            .bind(lease.partition)
                            .execute(&mut *tx)
                            .await
                            .map_err(db(OP))?;
                    }
                    sqlx::query(sql::DELETE_SEGMENTS_BEFORE)
                        .bind(&id)
                        .bind(lease.partition)
                        .bind(log_start)
                        .execute(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    tx.commit().await.map_err(db(OP))?;
                    Ok(log_start)
                }

                async fn replace_segments(
                    &self,
                    lease: LeaseEpoch,
                    old: &[SegmentRef],
                    new: &SegmentRef,
                ) -> Result<bool> {
                    const OP: &str = "replace segments";
                    let mut tx = self.write_tx(OP).await?;
                    Self::fenced_bounds(&mut tx, lease, OP).await?;
                    let (Some(first), Some(last)) = (old.first(), old.last()) else {
                        return Ok(false);
                    };
                    if !valid_replacement(old, new) {
                        return Ok(false);
                    }
                    let id = lease.topic_id.to_string();
                    let stored = sqlx::query_as::<_, SegmentRow>(sql::SEGMENTS_WITH_BASE_IN)
                        .bind(&id)
                        .bind(lease.partition)
                        .bind(first.base_offset)
                        .bind(last.base_offset)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    let stored: Vec<SegmentRef> =
                        stored.into_iter().map(SegmentRef::from).collect();
                    if !rows_match(&stored, old) {
                        return Ok(false);
                    }
                    sqlx::query(sql::DELETE_SEGMENTS_WITH_BASE_IN)
                        .bind(&id)
                        .bind(lease.partition)
                        .bind(first.base_offset)
                        .bind(last.base_offset)
                        .execute(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    Self::insert_segments(&mut tx, &[(id.clone(), lease.partition, new)], OP)
                        .await?;
                    tx.commit().await.map_err(db(OP))?;
                    Ok(true)
                }

                async fn referenced_objects(&self, keys: &[String]) -> Result<HashSet<String>> {
                    if keys.is_empty() {
                        return Ok(HashSet::new());
                    }
                    Ok(self.referenced_among(keys).await?.into_iter().collect())
                }

                async fn allocate_producer_id(&self) -> Result<i64> {
                    self.next_producer_id().await
                }

                async fn producer_states(
                    &self,
                    topic_id: Uuid,
                    partition: PartitionId,
                ) -> Result<Vec<ProducerState>> {
                    sqlx::query_as::<_, ProducerStateRow>(sql::PRODUCER_STATES)
                        .bind(topic_id.to_string())
                        .bind(partition)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("load producer states"))?
                        .into_iter()
                        .map(ProducerStateRow::into_state)
                        .collect()
                }

                async fn claim_group(
                    &self,
                    group: &str,
                    agent: &str,
                    now_ms: TimestampMs,
                ) -> Result<StoredGroup> {
                    const OP: &str = "claim group";
                    let mut tx = self.write_tx(OP).await?;
                    let epoch: i64 = sqlx::query_scalar(sql::NEXT_GROUP_EPOCH)
                        .bind(group)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    let row = sqlx::query_as::<_, GroupRow>(sql::CLAIM_GROUP)
                        .bind(group)
                        .bind(agent)
                        .bind(epoch)
                        .bind(now_ms)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    tx.commit().await.map_err(db(OP))?;
                    Ok(row.into())
                }

                async fn store_group(
                    &self,
                    group: &str,
                    epoch: i64,
                    state: &str,
                    now_ms: TimestampMs,
                ) -> Result<()> {
                    let updated = sqlx::query(sql::STORE_GROUP)
                        .bind(group)
                        .bind(epoch)
                        .bind(state)
                        .bind(now_ms)
                        .execute(&self.pool)
                        .await
                        .map_err(db("store group"))?
                        .rows_affected();
                    if updated == 0 {
                        return Err(Error::GroupFenced {
                            group: group.to_owned(),
                            epoch,
                        });
                    }
                    Ok(())
                }

                async fn load_group(&self, group: &str) -> Result<Option<StoredGroup>> {
                    let row = sqlx::query_as::<_, GroupRow>(sql::GROUP_BY_ID)
                        .bind(group)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db("load group"))?;
                    Ok(row.map(StoredGroup::from))
                }

                async fn list_groups(&self) -> Result<Vec<StoredGroup>> {
                    let rows = sqlx::query_as::<_, GroupRow>(sql::ALL_GROUPS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("list groups"))?;
                    Ok(rows.into_iter().map(StoredGroup::from).collect())
                }

                async fn delete_group(&self, group: &str, epoch: i64) -> Result<()> {
                    const OP: &str = "delete group";
                    let mut tx = self.write_tx(OP).await?;
                    let deleted = sqlx::query(sql::DELETE_GROUP)
                        .bind(group)
                        .bind(epoch)
                        .execute(&mut *tx)
                        .await
                        .map_err(db(OP))?
                        .rows_affected();
                    if deleted == 0 {
                        return Err(Error::GroupFenced {
                            group: group.to_owned(),
                            epoch,
                        });
                    }
                    sqlx::query(sql::DELETE_GROUP_OFFSETS)
                        .bind(group)
                        .execute(&mut *tx)
                        .await
                        .map_err(db(OP))?;
                    tx.commit().await.map_err(db(OP))
                }

                async fn commit_group_offsets(
                    &self,
                    group: &str,
                    epoch: i64,
                    offsets: &[GroupOffset],
                ) -> Result<()> {
                    const OP: &str = "commit group offsets";
                    let mut tx = self.write_tx(OP).await?;
                    Self::fence_group(&mut tx, group, epoch, OP).await?;
                    for offset in offsets {
                        sqlx::query(sql::UPSERT_GROUP_OFFSET)
                            .bind(group)
                            .bind(&offset.topic)
                            .bind(offset.partition)
                            .bind(offset.offset)
                            .bind(offset.leader_epoch)
                            .bind(&offset.metadata)
                            .bind(offset.commit_timestamp_ms)
                            .execute(&mut *tx)
                            .await
                            .map_err(db(OP))?;
                    }
                    tx.commit().await.map_err(db(OP))
                }

                async fn group_offsets(&self, group: &str) -> Result<Vec<GroupOffset>> {
                    let rows = sqlx::query_as::<_, GroupOffsetRow>(sql::GROUP_OFFSETS)
                        .bind(group)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("fetch group offsets"))?;
                    Ok(rows.into_iter().map(GroupOffset::from).collect())
                }

                async fn delete_group_offsets(
                    &self,
                    group: &str,
                    epoch: i64,
                    partitions: Option<&[(String, PartitionId)]>,
                ) -> Result<u64> {
                    const OP: &str = "delete group offsets";
                    let mut tx = self.write_tx(OP).await?;
                    Self::fence_group(&mut tx, group, epoch, OP).await?;
                    let deleted = match partitions {
                        None => sqlx::query(sql::DELETE_GROUP_OFFSETS)
                            .bind(group)
                            .execute(&mut *tx)
                            .await
                            .map_err(db(OP))?
                            .rows_affected(),
                        Some(partitions) => {
                            let mut deleted = 0;
                            for (topic, partition) in partitions {
                                deleted += sqlx::query(sql::DELETE_GROUP_OFFSET)
                                    .bind(group)
                                    .bind(topic)
                                    .bind(partition)
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(db(OP))?
                                    .rows_affected();
                            }
                            deleted
                        }
                    };
                    tx.commit().await.map_err(db(OP))?;
                    Ok(deleted)
                }

                async fn expire_group_offsets(
                    &self,
                    group: &str,
                    epoch: i64,
                    committed_before_ms: TimestampMs,
                ) -> Result<u64> {
                    const OP: &str = "expire group offsets";
                    let mut tx = self.write_tx(OP).await?;
                    Self::fence_group(&mut tx, group, epoch, OP).await?;
                    let deleted = sqlx::query(sql::EXPIRE_GROUP_OFFSETS)
                        .bind(group)
                        .bind(committed_before_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(db(OP))?
                        .rows_affected();
                    tx.commit().await.map_err(db(OP))?;
                    Ok(deleted)
                }

                async fn groups_with_offsets(&self) -> Result<Vec<String>> {
                    sqlx::query_scalar(sql::GROUPS_WITH_OFFSETS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db("list groups with offsets"))
                }
            }
        };
    };
}
pub(crate) use impl_metadata_store;
