//! Partition leadership: heartbeats, lease renewal, and taking a fair share of partitions.
//!
//! Every partition is owned through a lease row with an epoch. An agent takes unowned or
//! expired partitions until it holds its fair share (`ceil(partitions / live agents)`),
//! renews what it holds every heartbeat, and forgets — failing pending appends — any
//! partition whose lease it lost. Commits are fenced by the epoch, so a deposed agent can
//! never make data visible, whatever its clock says.

use std::collections::HashSet;
use std::sync::Arc;

use streamhouse_metadata::LeaseEpoch;
use streamhouse_types::TopicPartition;

use crate::Result;
use crate::engine::Inner;
use crate::partition::{CloseReason, PartitionLog};

pub(crate) async fn run(inner: Arc<Inner>) {
    let mut ticker = tokio::time::interval(inner.config.heartbeat_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = inner.stopping.cancelled() => break,
        }
        if let Err(error) = tick(&inner).await {
            tracing::warn!(%error, "lease maintenance failed; will retry");
        }
    }
}

async fn tick(inner: &Arc<Inner>) -> Result<()> {
    let now = inner.clock.now_ms();
    let beat = inner.metadata.heartbeat_agent(&inner.agent.id, now).await;
    inner.metrics.agent.heartbeat(beat.is_ok());
    if !beat? {
        // Deregistered (e.g. expired by an operator): register again.
        let mut agent = inner.agent.clone();
        agent.heartbeat_at_ms = now;
        inner.metadata.register_agent(&agent).await?;
    }
    renew(inner).await?;
    rebalance(inner).await
}

async fn renew(inner: &Arc<Inner>) -> Result<()> {
    let held = inner.led_partitions();
    if held.is_empty() {
        return Ok(());
    }
    let leases: Vec<LeaseEpoch> = held.iter().map(|l| l.lease).collect();
    let expires = inner.clock.now_ms() + inner.config.lease_ttl.as_millis() as i64;
    let renewed: HashSet<(uuid::Uuid, i32, i32)> = inner
        .metadata
        .renew_leases(&inner.agent.id, &leases, expires)
        .await?
        .into_iter()
        .map(|l| (l.topic_id, l.partition, l.epoch))
        .collect();
    for log in held {
        if !renewed.contains(&(log.lease.topic_id, log.lease.partition, log.lease.epoch)) {
            tracing::warn!(tp = %log.tp, epoch = log.lease.epoch, "lease lost");
            inner.drop_partition(&log, CloseReason::LostLease);
        }
    }
    Ok(())
}

/// Takes unowned or expired partitions (and ones recorded as ours from an earlier
/// incarnation) up to this agent's fair share; forgets partitions of deleted topics.
pub(crate) async fn rebalance(inner: &Arc<Inner>) -> Result<()> {
    // One pass at a time: two concurrent passes would both take the same partition, and
    // the second grant would fence the first.
    let _serialized = inner.rebalance_lock.lock().await;
    if inner.stopping.is_cancelled() {
        return Ok(());
    }
    let now = inner.clock.now_ms();
    let ttl = inner.config.lease_ttl.as_millis() as i64;
    let partitions = inner.metadata.partitions(None).await?;
    let live_agents = inner
        .metadata
        .list_agents()
        .await?
        .iter()
        .filter(|a| a.id == inner.agent.id || a.is_live(now, ttl))
        .count()
        .max(1);
    inner.metrics.agent.set_live_agents(live_agents);
    let fair_share = partitions.len().div_ceil(live_agents);

    let existing: HashSet<(uuid::Uuid, i32)> = partitions
        .iter()
        .map(|p| (p.topic_id, p.partition))
        .collect();
    for log in inner.led_partitions() {
        if !existing.contains(&(log.lease.topic_id, log.lease.partition)) {
            inner.drop_partition(&log, CloseReason::TopicDeleted);
        }
    }

    let mut held = inner.led_partitions().len();
    for state in partitions {
        let tp = TopicPartition::new(state.topic.as_str(), state.partition);
        if inner
            .partition(&tp)
            .is_some_and(|l| l.lease.topic_id == state.topic_id)
        {
            continue;
        }
        let ours_from_before = state.leader.as_deref() == Some(inner.agent.id.as_str());
        let free = state.leader.is_none() || state.lease_expires_at_ms <= now;
        if !(ours_from_before || (free && held < fair_share)) {
            continue;
        }
        let Some(topic) = inner.metadata.get_topic(&state.topic).await? else {
            continue;
        };
        let Some((lease, fresh)) = inner
            .metadata
            .acquire_lease(
                state.topic_id,
                state.partition,
                &inner.agent.id,
                now,
                now + ttl,
            )
            .await?
        else {
            continue;
        };
        let producers = inner
            .metadata
            .producer_states(state.topic_id, state.partition)
            .await?;
        tracing::info!(%tp, epoch = lease.epoch, hw = fresh.high_watermark, "took partition lease");
        inner.insert_partition(Arc::new(PartitionLog::new(
            tp,
            lease,
            Arc::new(topic.config),
            fresh.log_start_offset,
            fresh.high_watermark,
            producers,
            inner.metrics.producer.topic_counters(&state.topic),
        )));
        held += 1;
    }
    Ok(())
}
