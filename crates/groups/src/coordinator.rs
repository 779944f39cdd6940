//! The group coordinator: which groups this agent serves, loading them from and saving
//! them to the metadata store, the timers that expire members, and offsets.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use streamhouse_config::GroupsConfig;
use streamhouse_engine::Engine;
use streamhouse_metadata::{Error as MetadataError, GroupOffset};
use streamhouse_types::{Clock, Offset, PartitionId, TimestampMs, TopicPartition};
use tokio::sync::OwnedMutexGuard;
use tokio_util::sync::CancellationToken;

use crate::consumer_protocol::{self, CONSUMER};
use crate::group::{Group, GroupState, JoinRequest, Limits, Reply, SyncRequest};
use crate::member::{JoinResult, SyncResult};
use crate::stored::StoredGroupState;
use crate::{GroupError, ownership};

/// How often member sessions and join/sync deadlines are checked.
const TICK: Duration = Duration::from_millis(100);
/// How often loaded groups are checked against the live-agent view, so a group whose
/// coordinator moved is handed over.
const OWNERSHIP_CHECK: Duration = Duration::from_secs(2);
/// How often offsets of empty groups are expired.
const RETENTION_CHECK: Duration = Duration::from_secs(60);
/// How long a read of the live agents is reused.
const LIVE_AGENTS_TTL_MS: i64 = 1_000;

/// An offset to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommit {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: PartitionId,
    /// The next offset to consume.
    pub offset: Offset,
    /// The leader epoch the consumer saw, or -1.
    pub leader_epoch: i32,
    /// Free-form client metadata.
    pub metadata: Option<String>,
}

/// A group as ListGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOverview {
    /// Group id.
    pub group_id: String,
    /// Protocol type (`consumer`), empty for groups that only commit offsets.
    pub protocol_type: String,
    /// Current state.
    pub state: GroupState,
    /// Members of the current generation.
    pub members: usize,
}

/// A member as DescribeGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub instance_id: Option<String>,
    /// The client's `client.id`.
    pub client_id: String,
    /// The client's address.
    pub client_host: String,
    /// Metadata for the generation's protocol (only while Stable, as in Kafka).
    pub metadata: Bytes,
    /// The member's assignment (only while Stable).
    pub assignment: Bytes,
    /// The assignment decoded, for consumer groups.
    pub assigned_partitions: Vec<(String, PartitionId)>,
}

/// A group as DescribeGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// Current state; `Dead` for a group that does not exist.
    pub state: GroupState,
    /// Protocol type, empty if none.
    pub protocol_type: String,
    /// The generation's protocol (only while Stable), empty otherwise.
    pub protocol_name: String,
    /// The current generation.
    pub generation: i32,
    /// The leader's member id, if any.
    pub leader: Option<String>,
    /// Members of the current generation.
    pub members: Vec<MemberDescription>,
}

/// One partition's consumer lag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLag {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: PartitionId,
    /// The group's committed offset, if it committed one.
    pub committed_offset: Option<Offset>,
    /// The partition's high watermark.
    pub log_end_offset: Offset,
    /// Records between the commit and the end of the log (`None` without a commit).
    pub lag: Option<i64>,
    /// The member the partition is assigned to, in consumer groups.
    pub member_id: Option<String>,
}

/// A group's lag, partition by partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupLag {
    /// Group id.
    pub group_id: String,
    /// Current state.
    pub state: GroupState,
    /// Committed or assigned partitions, by topic and partition.
    pub partitions: Vec<PartitionLag>,
    /// Sum of the partitions' lag.
    pub total_lag: i64,
}

/// A loaded group and the coordinator epoch that fences its writes.
#[derive(Debug)]
struct Loaded {
    group: Group,
    epoch: i64,
    /// The generation last saved, to count rebalances.
    saved_generation: i32,
}

/// `None` until the group is loaded, and again after it is handed over or deleted. The
/// slot itself stays, so two requests never load one group twice.
type Slot = Arc<tokio::sync::Mutex<Option<Loaded>>>;
type Guard = OwnedMutexGuard<Option<Loaded>>;

/// Coordinates the consumer groups this agent is responsible for. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GroupCoordinator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    engine: Engine,
    config: GroupsConfig,
    limits: Limits,
    lease_ttl_ms: i64,
    clock: Arc<dyn Clock>,
    slots: Mutex<HashMap<String, Slot>>,
    live_agents: Mutex<Option<(TimestampMs, Arc<Vec<String>>)>>,
    shutdown: CancellationToken,
}

impl GroupCoordinator {
    /// A coordinator for `engine`'s agent. `lease_ttl` is how long an agent counts as
    /// live after its last heartbeat (the engine's lease TTL, so groups and partitions
    /// agree on who is alive).
    pub fn new(
        engine: Engine,
        config: GroupsConfig,
        lease_ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let limits = Limits {
            min_session_ms: millis(config.min_session_timeout),
            max_session_ms: millis(config.max_session_timeout),
            initial_delay_ms: millis(config.initial_rebalance_delay),
            max_size: config.max_size,
        };
        Self {
            inner: Arc::new(Inner {
                engine,
                config,
                limits,
                lease_ttl_ms: millis(lease_ttl),
                clock,
                slots: Mutex::new(HashMap::new()),
                live_agents: Mutex::new(None),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    /// Runs the timers (session expiry, rebalance deadlines, hand-over, offset
    /// retention) until [`GroupCoordinator::shutdown`].
    pub fn start(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut last_ownership, mut last_retention) = (0, 0);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = this.inner.shutdown.cancelled() => break,
                }
                this.tick().await;
                let now = this.now();
                if now - last_ownership >= millis(OWNERSHIP_CHECK) {
                    last_ownership = now;
                    this.hand_over_moved_groups().await;
                }
                if now - last_retention >= millis(RETENTION_CHECK) {
                    last_retention = now;
                    if let Err(error) = this.expire_offsets().await {
                        tracing::warn!(%error, "expiring group offsets failed");
                    }
                }
            }
        })
    }

    /// Stops the timers and answers every parked JoinGroup/SyncGroup with
    /// NOT_COORDINATOR, so clients move to the agent that takes over.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        for (_, slot) in self.all_slots() {
            self.unload(&mut slot.lock_owned().await, &GroupError::NotCoordinator);
        }
    }

    /// How many groups this coordinator holds in memory (loaded, or in use by a request
    /// right now); ids that clients merely mention are not kept.
    pub fn tracked_groups(&self) -> usize {
        lock(&self.inner.slots).len()
    }

    fn now(&self) -> TimestampMs {
        self.inner.clock.now_ms()
    }

    fn agent_id(&self) -> &str {
        self.inner.engine.agent_id()
    }

    // ----- who coordinates what -----

    /// The id of the agent that coordinates `group_id`.
    pub async fn coordinator_of(&self, group_id: &str) -> Result<String, GroupError> {
        let agents = self.live_agents().await?;
        Ok(ownership::coordinator_of(group_id, &agents)
            .unwrap_or(self.agent_id())
            .to_owned())
    }

    async fn live_agents(&self) -> Result<Arc<Vec<String>>, GroupError> {
        let now = self.now();
        if let Some((at, agents)) = &*lock(&self.inner.live_agents)
            && now - at < LIVE_AGENTS_TTL_MS
        {
            return Ok(Arc::clone(agents));
        }
        let own = self.agent_id();
        let mut agents: Vec<String> = self
            .inner
            .engine
            .metadata()
            .list_agents()
            .await
            .map_err(|e| GroupError::storage(&e))?
            .into_iter()
            .filter(|a| a.id == own || a.is_live(now, self.inner.lease_ttl_ms))
            .map(|a| a.id)
            .collect();
        if !agents.iter().any(|a| a == own) {
            agents.push(own.to_owned());
        }
        let agents = Arc::new(agents);
        *lock(&self.inner.live_agents) = Some((now, Arc::clone(&agents)));
        Ok(agents)
    }

    async fn ensure_coordinator(&self, group_id: &str) -> Result<(), GroupError> {
        if group_id.is_empty() {
            return Err(GroupError::InvalidGroupId(group_id.to_owned()));
        }
        if self.inner.shutdown.is_cancelled() {
            return Err(GroupError::NotCoordinator);
        }
        if self.coordinator_of(group_id).await? == self.agent_id() {
            Ok(())
        } else {
            Err(GroupError::NotCoordinator)
        }
    }

    // ----- loading and saving -----

    fn slot(&self, group_id: &str) -> Slot {
        Arc::clone(
            lock(&self.inner.slots)
                .entry(group_id.to_owned())
                .or_default(),
        )
    }

    /// Drops an unloaded group's slot unless a request holds it (then the map's reference
    /// is not the only one), so the map only holds groups that are loaded or in use: ids
    /// clients merely mention do not accumulate.
    fn forget_if_idle(&self, group_id: &str) {
        let mut slots = lock(&self.inner.slots);
        if let Some(slot) = slots.get(group_id)
            && Arc::strong_count(slot) == 1
            && slot.try_lock().is_ok_and(|loaded| loaded.is_none())
        {
            slots.remove(group_id);
        }
    }

    fn all_slots(&self) -> Vec<(String, Slot)> {
        lock(&self.inner.slots)
            .iter()
            .map(|(id, slot)| (id.clone(), Arc::clone(slot)))
            .collect()
    }

    /// Locks the group, loading it first if needed: claiming it in the store (which
    /// fences the previous coordinator) and restoring its saved state. With `create`
    /// false, a group the store does not know is `None` and nothing is created.
    async fn lock_group(&self, group_id: &str, create: bool) -> Result<Option<Guard>, GroupError> {
        let mut guard = self.slot(group_id).lock_owned().await;
        if guard.is_some() {
            return Ok(Some(guard));
        }
        let store = self.inner.engine.metadata();
        if !create
            && store
                .load_group(group_id)
                .await
                .map_err(|e| GroupError::storage(&e))?
                .is_none()
        {
            drop(guard);
            self.forget_if_idle(group_id);
            return Ok(None);
        }
        let now = self.now();
        let claimed = store
            .claim_group(group_id, self.agent_id(), now)
            .await
            .map_err(|e| GroupError::storage(&e))?;
        let group = match &claimed.state {
            None => Group::new(group_id, self.inner.limits, now),
            Some(json) => match StoredGroupState::from_json(json) {
                Ok(saved) => Group::restore(group_id, self.inner.limits, now, saved),
                Err(error) => {
                    tracing::error!(group = group_id, %error, "saved group state is unreadable");
                    return Err(GroupError::CoordinatorNotAvailable(format!(
                        "saved state of group {group_id:?} is unreadable: {error}"
                    )));
                }
            },
        };
        tracing::info!(
            group = group_id,
            epoch = claimed.coordinator_epoch,
            state = group.state.as_str(),
            members = group.members.len(),
            "group loaded"
        );
        *guard = Some(Loaded {
            saved_generation: group.generation,
            group,
            epoch: claimed.coordinator_epoch,
        });
        Ok(Some(guard))
    }

    /// Saves the group if it changed, then delivers the answers its change released. If
    /// the save fails the group is unloaded (the store keeps the last saved state) and
    /// every answer becomes the error.
    async fn save(&self, guard: &mut Guard) -> Result<(), GroupError> {
        let Some(loaded) = guard.as_mut() else {
            return Ok(());
        };
        if loaded.group.dirty {
            let json = StoredGroupState::of(&loaded.group).to_json();
            let saved = self
                .inner
                .engine
                .metadata()
                .store_group(&loaded.group.id, loaded.epoch, &json, self.now())
                .await;
            if let Err(error) = saved {
                let error = self.unload_error(&loaded.group.id, &error);
                self.unload(guard, &error);
                return Err(error);
            }
            loaded.group.dirty = false;
            if loaded.group.generation != loaded.saved_generation {
                loaded.saved_generation = loaded.group.generation;
                self.inner.engine.metrics().groups.rebalanced();
            }
        }
        for delivery in loaded.group.outbox.drain(..) {
            delivery.deliver();
        }
        Ok(())
    }

    /// Drops the loaded group: everything parked in it, and every answer it planned,
    /// gets `error`. The next request loads the group afresh from the store.
    fn unload(&self, guard: &mut Guard, error: &GroupError) {
        if let Some(loaded) = guard.as_mut() {
            loaded.group.shut(error, self.now());
            for delivery in loaded.group.outbox.drain(..) {
                delivery.fail(error.clone());
            }
        }
        **guard = None;
    }

    fn unload_error(&self, group_id: &str, error: &MetadataError) -> GroupError {
        if matches!(error, MetadataError::GroupFenced { .. }) {
            tracing::info!(group = group_id, "another agent took the group over");
            GroupError::NotCoordinator
        } else {
            tracing::warn!(group = group_id, %error, "saving group failed; unloading it");
            GroupError::storage(error)
        }
    }

    async fn answer<T>(&self, reply: Reply<T>) -> Result<T, GroupError> {
        match reply {
            Reply::Now(result) => result,
            Reply::Later(rx) => tokio::select! {
                result = rx => result.unwrap_or(Err(GroupError::NotCoordinator)),
                () = self.inner.shutdown.cancelled() => Err(GroupError::NotCoordinator),
            },
        }
    }

    // ----- the group protocol -----

    /// JoinGroup: waits at the join barrier until the rebalance completes.
    pub async fn join(
        &self,
        group_id: &str,
        request: JoinRequest,
    ) -> Result<JoinResult, GroupError> {
        self.ensure_coordinator(group_id).await?;
        let Some(mut guard) = self.lock_group(group_id, true).await? else {
            return Err(GroupError::UnknownMemberId);
        };
        let reply = loaded(&mut guard).group.join(request, self.now());
        self.save(&mut guard).await?;
        drop(guard);
        self.answer(reply).await
    }

    /// SyncGroup: the leader's call completes the rebalance; followers wait for it.
    pub async fn sync(
        &self,
        group_id: &str,
        request: SyncRequest,
    ) -> Result<SyncResult, GroupError> {
        self.ensure_coordinator(group_id).await?;
        let Some(mut guard) = self.lock_group(group_id, false).await? else {
            return Err(GroupError::UnknownMemberId);
        };
        let reply = loaded(&mut guard).group.sync(request, self.now());
        self.save(&mut guard).await?;
        drop(guard);
        self.answer(reply).await
    }

    /// Heartbeat: keeps the member's session alive; REBALANCE_IN_PROGRESS tells it to
    /// rejoin.
    pub async fn heartbeat(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
    ) -> Result<(), GroupError> {
        self.ensure_coordinator(group_id).await?;
        let Some(mut guard) = self.lock_group(group_id, false).await? else {
            return Err(GroupError::UnknownMemberId);
        };
        let result =
            loaded(&mut guard)
                .group
                .heartbeat(member_id, instance_id, generation, self.now());
        self.save(&mut guard).await?;
        result
    }

    /// LeaveGroup for each `(member id, instance id)`; one result per member.
    pub async fn leave(
        &self,
        group_id: &str,
        members: &[(String, Option<String>)],
    ) -> Result<Vec<Result<(), GroupError>>, GroupError> {
        self.ensure_coordinator(group_id).await?;
        let Some(mut guard) = self.lock_group(group_id, false).await? else {
            // Nobody to remove: each member is unknown (the request itself is fine).
            return Ok(vec![Err(GroupError::UnknownMemberId); members.len()]);
        };
        let now = self.now();
        let group = &mut loaded(&mut guard).group;
        let results = members
            .iter()
            .map(|(member, instance)| group.leave(member, instance.as_deref(), now))
            .collect();
        self.save(&mut guard).await?;
        Ok(results)
    }

    // ----- offsets -----

    /// OffsetCommit: checks the member and generation (generation -1 with no member
    /// commits for a group without members), then writes every valid partition's offset
    /// in one transaction fenced by the coordinator epoch. One result per offset.
    pub async fn commit_offsets(
        &self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        offsets: Vec<OffsetCommit>,
    ) -> Result<Vec<Result<(), GroupError>>, GroupError> {
        self.ensure_coordinator(group_id).await?;
        let checks = self
            .check_partitions(offsets.iter().map(|o| (&o.topic, o.partition)))
            .await?;
        let max = self.inner.config.offset_metadata_max_bytes.as_u64();
        let results: Vec<Result<(), GroupError>> = offsets
            .iter()
            .zip(checks)
            .map(|(offset, exists)| {
                exists?;
                let len = offset.metadata.as_ref().map_or(0, String::len);
                if len as u64 > max {
                    return Err(GroupError::OffsetMetadataTooLarge { len, max });
                }
                Ok(())
            })
            .collect();
        // Only a generation-less commit creates a group; a member of a group nobody
        // knows speaks of a generation that does not exist.
        let Some(mut guard) = self.lock_group(group_id, generation < 0).await? else {
            let error = GroupError::IllegalGeneration;
            return Ok(results
                .into_iter()
                .map(|r| r.and(Err(error.clone())))
                .collect());
        };
        let now = self.now();
        let valid =
            loaded(&mut guard)
                .group
                .validate_commit(generation, member_id, instance_id, now);
        if let Err(error) = valid {
            self.save(&mut guard).await?;
            // As in Kafka, a partition that does not exist says so whatever the group's
            // verdict on the member.
            return Ok(results
                .into_iter()
                .map(|r| r.and(Err(error.clone())))
                .collect());
        }
        let rows: Vec<GroupOffset> = offsets
            .into_iter()
            .zip(&results)
            .filter(|(_, result)| result.is_ok())
            .map(|(o, _)| GroupOffset {
                topic: o.topic,
                partition: o.partition,
                offset: o.offset,
                leader_epoch: o.leader_epoch,
                metadata: o.metadata,
                commit_timestamp_ms: now,
            })
            .collect();
        let epoch = loaded(&mut guard).epoch;
        tracing::debug!(group = group_id, member = member_id, generation,
            offsets = ?rows.iter().map(|r| (r.topic.as_str(), r.partition, r.offset)).collect::<Vec<_>>(),
            "committing offsets");
        if !rows.is_empty()
            && let Err(error) = self
                .inner
                .engine
                .metadata()
                .commit_group_offsets(group_id, epoch, &rows)
                .await
        {
            let error = self.unload_error(group_id, &error);
            self.unload(&mut guard, &error);
            return Err(error);
        }
        self.save(&mut guard).await?;
        Ok(results)
    }

    /// OffsetFetch: the committed offsets of the given partitions (all committed ones if
    /// `None`); a partition without a commit has offset -1.
    pub async fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[(String, PartitionId)]>,
    ) -> Result<Vec<GroupOffset>, GroupError> {
        self.ensure_coordinator(group_id).await?;
        let committed = self.committed(group_id).await?;
        let Some(partitions) = partitions else {
            return Ok(committed);
        };
        let mut by_partition: HashMap<(&str, PartitionId), &GroupOffset> = committed
            .iter()
            .map(|o| ((o.topic.as_str(), o.partition), o))
            .collect();
        Ok(partitions
            .iter()
            .map(
                |(topic, partition)| match by_partition.remove(&(topic.as_str(), *partition)) {
                    Some(offset) => offset.clone(),
                    None => GroupOffset {
                        topic: topic.clone(),
                        partition: *partition,
                        offset: -1,
                        leader_epoch: -1,
                        metadata: None,
                        commit_timestamp_ms: -1,
                    },
                },
            )
            .collect())
    }

    /// OffsetDelete: deletes committed offsets, except for topics the group's members are
    /// subscribed to. One result per partition.
    pub async fn delete_offsets(
        &self,
        group_id: &str,
        partitions: &[(String, PartitionId)],
    ) -> Result<Vec<Result<(), GroupError>>, GroupError> {
        self.ensure_coordinator(group_id).await?;
        let checks = self
            .check_partitions(partitions.iter().map(|(t, p)| (t, *p)))
            .await?;
        let Some(mut guard) = self.lock_group(group_id, false).await? else {
            return Err(GroupError::GroupIdNotFound);
        };
        let Loaded { group, epoch, .. } = loaded(&mut guard);
        let subscribed: Option<BTreeSet<String>> = if group.is_empty() {
            Some(BTreeSet::new())
        } else if group.protocol_type.as_deref() == Some(CONSUMER) {
            let protocol = group.protocol_name.clone().unwrap_or_default();
            Some(
                group
                    .members
                    .values()
                    .filter_map(|m| {
                        consumer_protocol::subscribed_topics(&m.metadata_for(&protocol))
                    })
                    .flatten()
                    .collect(),
            )
        } else {
            None
        };
        let Some(subscribed) = subscribed else {
            return Err(GroupError::NonEmptyGroup);
        };
        let results: Vec<Result<(), GroupError>> = partitions
            .iter()
            .zip(checks)
            .map(|((topic, _), exists)| {
                exists?;
                if subscribed.contains(topic) {
                    Err(GroupError::GroupSubscribedToTopic)
                } else {
                    Ok(())
                }
            })
            .collect();
        let doomed: Vec<(String, PartitionId)> = partitions
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.is_ok())
            .map(|(tp, _)| tp.clone())
            .collect();
        let epoch = *epoch;
        if !doomed.is_empty()
            && let Err(error) = self
                .inner
                .engine
                .metadata()
                .delete_group_offsets(group_id, epoch, Some(&doomed))
                .await
        {
            let error = self.unload_error(group_id, &error);
            self.unload(&mut guard, &error);
            return Err(error);
        }
        Ok(results)
    }

    /// For each `(topic, partition)`: whether it exists.
    async fn check_partitions<'a>(
        &self,
        partitions: impl Iterator<Item = (&'a String, PartitionId)>,
    ) -> Result<Vec<Result<(), GroupError>>, GroupError> {
        let mut counts: HashMap<&str, Option<i32>> = HashMap::new();
        let mut out = Vec::new();
        for (topic, partition) in partitions {
            let count = match counts.get(topic.as_str()) {
                Some(count) => *count,
                None => {
                    let count = match self.inner.engine.topic(topic).await {
                        Ok(t) => Some(t.partition_count),
                        Err(streamhouse_engine::Error::UnknownTopic(_)) => None,
                        Err(error) => {
                            return Err(GroupError::CoordinatorNotAvailable(error.to_string()));
                        }
                    };
                    counts.insert(topic, count);
                    count
                }
            };
            out.push(match count {
                Some(n) if (0..n).contains(&partition) => Ok(()),
                _ => Err(GroupError::UnknownTopicOrPartition),
            });
        }
        Ok(out)
    }

    // ----- admin -----

    /// ListGroups: the groups this agent coordinates.
    pub async fn list_groups(&self) -> Result<Vec<GroupOverview>, GroupError> {
        let agents = self.live_agents().await?;
        let own = self.agent_id();
        Ok(self
            .all_groups()
            .await?
            .into_iter()
            .filter(|g| ownership::coordinator_of(&g.group_id, &agents).unwrap_or(own) == own)
            .collect())
    }

    /// DescribeGroups for one group; a group nobody knows is `Dead` with no members.
    pub async fn describe_group(&self, group_id: &str) -> Result<GroupDescription, GroupError> {
        self.ensure_coordinator(group_id).await?;
        self.inspect(group_id).await
    }

    async fn committed(&self, group_id: &str) -> Result<Vec<GroupOffset>, GroupError> {
        self.inner
            .engine
            .metadata()
            .group_offsets(group_id)
            .await
            .map_err(|e| GroupError::storage(&e))
    }

    async fn has_offsets(&self, group_id: &str) -> Result<bool, GroupError> {
        Ok(!self.committed(group_id).await?.is_empty())
    }

    /// DeleteGroups for one group: only a group without members; its offsets go too.
    pub async fn delete_group(&self, group_id: &str) -> Result<(), GroupError> {
        self.ensure_coordinator(group_id).await?;
        let Some(mut guard) = self.lock_group(group_id, false).await? else {
            return Err(GroupError::GroupIdNotFound);
        };
        let Loaded { group, epoch, .. } = loaded(&mut guard);
        if !group.is_empty() {
            return Err(GroupError::NonEmptyGroup);
        }
        let epoch = *epoch;
        let deleted = self
            .inner
            .engine
            .metadata()
            .delete_group(group_id, epoch)
            .await;
        let error = match &deleted {
            Ok(()) => GroupError::GroupIdNotFound,
            Err(error) => self.unload_error(group_id, error),
        };
        self.unload(&mut guard, &error);
        drop(guard);
        self.forget_if_idle(group_id);
        if deleted.is_ok() {
            tracing::info!(group = group_id, "group deleted");
        }
        deleted.map_err(|_| error)
    }

    /// Every group the cluster knows (whichever agent coordinates it), for the REST API:
    /// live state where this agent has the group loaded, saved state otherwise.
    pub async fn all_groups(&self) -> Result<Vec<GroupOverview>, GroupError> {
        let store = self.inner.engine.metadata();
        let mut overviews: BTreeMap<String, GroupOverview> = BTreeMap::new();
        for id in store
            .groups_with_offsets()
            .await
            .map_err(|e| GroupError::storage(&e))?
        {
            overviews.insert(id.clone(), overview_of(&id, None));
        }
        for row in store
            .list_groups()
            .await
            .map_err(|e| GroupError::storage(&e))?
        {
            let saved = row
                .state
                .as_deref()
                .and_then(|j| StoredGroupState::from_json(j).ok());
            overviews.insert(
                row.group_id.clone(),
                overview_of(&row.group_id, saved.as_ref()),
            );
        }
        let mut out = Vec::with_capacity(overviews.len());
        for (id, mut overview) in overviews {
            let slot = lock(&self.inner.slots).get(&id).map(Arc::clone);
            if let Some(slot) = slot
                && let Some(loaded) = &*slot.lock().await
            {
                overview.protocol_type = loaded.group.protocol_type.clone().unwrap_or_default();
                overview.state = loaded.group.state;
                overview.members = loaded.group.members.len();
            }
            out.push(overview);
        }
        Ok(out)
    }

    /// Like [`GroupCoordinator::describe_group`], from any agent: live state if this agent
    /// has the group loaded, its saved state otherwise. `Dead` for an unknown group.
    pub async fn inspect(&self, group_id: &str) -> Result<GroupDescription, GroupError> {
        let slot = lock(&self.inner.slots).get(group_id).map(Arc::clone);
        if let Some(slot) = slot
            && let Some(loaded) = &*slot.lock().await
        {
            return Ok(describe(&loaded.group));
        }
        let row = self
            .inner
            .engine
            .metadata()
            .load_group(group_id)
            .await
            .map_err(|e| GroupError::storage(&e))?;
        let saved = row
            .and_then(|r| r.state)
            .and_then(|j| StoredGroupState::from_json(&j).ok());
        let now = self.now();
        Ok(match saved {
            Some(saved) => describe(&Group::restore(group_id, self.inner.limits, now, saved)),
            None if self.has_offsets(group_id).await? => {
                describe(&Group::new(group_id, self.inner.limits, now))
            }
            None => {
                let mut group = Group::new(group_id, self.inner.limits, now);
                group.state = GroupState::Dead;
                describe(&group)
            }
        })
    }

    /// Lag per partition: committed offsets against high watermarks, with the member
    /// each partition is assigned to. Answers from any agent.
    pub async fn lag(&self, group_id: &str) -> Result<GroupLag, GroupError> {
        let description = self.inspect(group_id).await?;
        self.lag_of(&description).await
    }

    /// [`GroupCoordinator::lag`] for a group already described (by
    /// [`GroupCoordinator::inspect`]), so a caller that shows both reads the group once.
    pub async fn lag_of(&self, description: &GroupDescription) -> Result<GroupLag, GroupError> {
        if description.state == GroupState::Dead {
            return Err(GroupError::GroupIdNotFound);
        }
        let group_id = description.group_id.as_str();
        let committed = self.committed(group_id).await?;
        let mut partitions: BTreeMap<(String, PartitionId), PartitionLag> = BTreeMap::new();
        for offset in committed {
            partitions.insert(
                (offset.topic.clone(), offset.partition),
                PartitionLag {
                    topic: offset.topic,
                    partition: offset.partition,
                    committed_offset: Some(offset.offset),
                    log_end_offset: 0,
                    lag: None,
                    member_id: None,
                },
            );
        }
        for member in &description.members {
            for (topic, partition) in &member.assigned_partitions {
                partitions
                    .entry((topic.clone(), *partition))
                    .or_insert_with(|| PartitionLag {
                        topic: topic.clone(),
                        partition: *partition,
                        committed_offset: None,
                        log_end_offset: 0,
                        lag: None,
                        member_id: None,
                    })
                    .member_id = Some(member.member_id.clone());
            }
        }
        let mut out = Vec::with_capacity(partitions.len());
        for (_, mut lag) in partitions {
            let tp = TopicPartition::new(lag.topic.as_str(), lag.partition);
            match self.inner.engine.offsets(&tp).await {
                Ok((_, end)) => {
                    lag.log_end_offset = end;
                    lag.lag = lag.committed_offset.map(|c| (end - c).max(0));
                    out.push(lag);
                }
                // Offsets of a deleted topic or partition have nothing to lag behind.
                Err(
                    streamhouse_engine::Error::UnknownTopic(_)
                    | streamhouse_engine::Error::UnknownPartition { .. },
                ) => {}
                Err(error) => return Err(GroupError::CoordinatorNotAvailable(error.to_string())),
            }
        }
        Ok(GroupLag {
            group_id: group_id.to_owned(),
            state: description.state,
            total_lag: out.iter().filter_map(|p| p.lag).sum(),
            partitions: out,
        })
    }

    // ----- timers -----

    /// One pass of the timers over the loaded groups: expired sessions, join and sync
    /// deadlines. Groups busy with a request are skipped until the next pass.
    pub async fn tick(&self) {
        let now = self.now();
        for (_, slot) in self.all_slots() {
            let Ok(mut guard) = slot.try_lock_owned() else {
                continue;
            };
            let Some(loaded) = guard.as_mut() else {
                continue;
            };
            if loaded.group.next_deadline().is_none_or(|d| d > now) {
                continue;
            }
            loaded.group.tick(now);
            // A failed save unloads the group; its members find the next coordinator.
            let _ = self.save(&mut guard).await;
        }
    }

    async fn hand_over_moved_groups(&self) {
        let Ok(agents) = self.live_agents().await else {
            return;
        };
        for (id, slot) in self.all_slots() {
            if ownership::coordinator_of(&id, &agents).unwrap_or(self.agent_id()) == self.agent_id()
            {
                continue;
            }
            let mut guard = slot.lock_owned().await;
            if guard.is_some() {
                tracing::info!(group = %id, "group moved to another agent; unloading");
            }
            self.unload(&mut guard, &GroupError::NotCoordinator);
            drop(guard);
            self.forget_if_idle(&id);
        }
    }

    /// Offset retention: offsets of groups without members expire `offset_retention`
    /// after the group became empty (consumer groups) or after their commit (groups that
    /// only commit); a group left with neither members nor offsets is deleted.
    pub async fn expire_offsets(&self) -> Result<(), GroupError> {
        let store = self.inner.engine.metadata();
        let agents = self.live_agents().await?;
        let retention = millis(self.inner.config.offset_retention);
        let groups = store
            .list_groups()
            .await
            .map_err(|e| GroupError::storage(&e))?;
        for row in groups {
            let id = row.group_id;
            if ownership::coordinator_of(&id, &agents).unwrap_or(self.agent_id()) != self.agent_id()
            {
                continue;
            }
            // One group that cannot be loaded must not stop retention for the others.
            let mut guard = match self.lock_group(&id, false).await {
                Ok(Some(guard)) => guard,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(group = %id, %error, "offset retention skipped the group");
                    continue;
                }
            };
            let now = self.now();
            let Loaded { group, epoch, .. } = loaded(&mut guard);
            if !group.is_empty() {
                continue;
            }
            let cutoff = now - retention;
            let committed_before = if group.protocol_type.is_some() {
                if group.state_since_ms > cutoff {
                    continue;
                }
                TimestampMs::MAX
            } else {
                cutoff
            };
            let epoch = *epoch;
            let expired = store
                .expire_group_offsets(&id, epoch, committed_before)
                .await;
            match expired {
                Ok(n) if n > 0 => tracing::info!(group = %id, offsets = n, "expired group offsets"),
                Ok(_) => {}
                Err(error) => {
                    let error = self.unload_error(&id, &error);
                    self.unload(&mut guard, &error);
                    continue;
                }
            }
            if self.has_offsets(&id).await.is_ok_and(|has| !has)
                && store.delete_group(&id, epoch).await.is_ok()
            {
                tracing::info!(group = %id, "empty group without offsets removed");
                self.unload(&mut guard, &GroupError::GroupIdNotFound);
                drop(guard);
                self.forget_if_idle(&id);
            }
        }
        Ok(())
    }
}

fn overview_of(group_id: &str, saved: Option<&StoredGroupState>) -> GroupOverview {
    GroupOverview {
        group_id: group_id.to_owned(),
        protocol_type: saved
            .and_then(|s| s.protocol_type.clone())
            .unwrap_or_default(),
        state: match saved {
            Some(s) if !s.members.is_empty() => s.state,
            _ => GroupState::Empty,
        },
        members: saved.map_or(0, |s| s.members.len()),
    }
}

fn describe(group: &Group) -> GroupDescription {
    let stable = group.state == GroupState::Stable;
    let protocol = group.protocol_name.clone().unwrap_or_default();
    let consumer = group.protocol_type.as_deref() == Some(CONSUMER);
    GroupDescription {
        group_id: group.id.clone(),
        state: group.state,
        protocol_type: group.protocol_type.clone().unwrap_or_default(),
        protocol_name: if stable {
            protocol.clone()
        } else {
            String::new()
        },
        generation: group.generation,
        leader: group.leader.clone(),
        members: group
            .members
            .values()
            .map(|m| MemberDescription {
                member_id: m.id.clone(),
                instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable {
                    m.metadata_for(&protocol)
                } else {
                    Bytes::new()
                },
                assignment: if stable {
                    m.assignment.clone()
                } else {
                    Bytes::new()
                },
                assigned_partitions: if stable && consumer {
                    consumer_protocol::assigned_partitions(&m.assignment).unwrap_or_default()
                } else {
                    Vec::new()
                },
            })
            .collect(),
    }
}

/// The loaded group behind a guard that [`GroupCoordinator::lock_group`] filled.
fn loaded(guard: &mut Guard) -> &mut Loaded {
    guard
        .as_mut()
        .unwrap_or_else(|| unreachable!("lock_group returns loaded groups"))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
