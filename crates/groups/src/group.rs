//! One group's rebalance state machine, as Kafka's classic protocol defines it.
//!
//! Sans-I/O: methods take the current time and either answer at once or hand back a
//! receiver the answer will arrive on. Answers that other members' requests release (the
//! join barrier opening, the leader's assignment arriving) go to an outbox, which the
//! coordinator delivers only after the new state is persisted — a member never acts on a
//! generation a restarted coordinator would not know.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use streamhouse_types::TimestampMs;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::GroupError;
use crate::member::{JoinOutcome, JoinResult, JoinedMember, Member, SyncOutcome, SyncResult};

/// Where a group is in its rebalance cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum GroupState {
    /// No members (offsets may still be committed).
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Joined; waiting for the leader's assignment.
    CompletingRebalance,
    /// Every member has its assignment.
    Stable,
    /// Deleted or handed to another coordinator.
    Dead,
}

impl GroupState {
    /// The name Kafka uses (DescribeGroups, ListGroups, admin tools).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "Empty",
            Self::PreparingRebalance => "PreparingRebalance",
            Self::CompletingRebalance => "CompletingRebalance",
            Self::Stable => "Stable",
            Self::Dead => "Dead",
        }
    }

    /// Parses a Kafka state name, case-insensitively (ListGroups filters).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Empty,
            Self::PreparingRebalance,
            Self::CompletingRebalance,
            Self::Stable,
            Self::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

/// The coordinator's limits that a group enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) min_session_ms: i64,
    pub(crate) max_session_ms: i64,
    pub(crate) initial_delay_ms: i64,
    pub(crate) max_size: u32,
}

/// A JoinGroup, in the coordinator's terms.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// Empty for a member joining for the first time.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub instance_id: Option<String>,
    /// The client's `client.id`.
    pub client_id: String,
    /// The client's address as the agent sees it.
    pub client_host: String,
    /// How long the member may go without heartbeats.
    pub session_timeout_ms: i32,
    /// How long the join barrier waits for this member (`max.poll.interval.ms`).
    pub rebalance_timeout_ms: i32,
    /// E.g. `consumer`.
    pub protocol_type: String,
    /// `(name, metadata)` in order of preference.
    pub protocols: Vec<(String, Bytes)>,
    /// JoinGroup v4+: a new member gets MEMBER_ID_REQUIRED and must rejoin with its id.
    pub require_known_member_id: bool,
}

/// A SyncGroup, in the coordinator's terms.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// The generation the member joined.
    pub generation: i32,
    /// The member.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub instance_id: Option<String>,
    /// Checked against the group's when given (v5+).
    pub protocol_type: Option<String>,
    /// Checked against the generation's when given (v5+).
    pub protocol_name: Option<String>,
    /// The leader's assignment: `(member id, assignment)`. Empty from followers.
    pub assignments: Vec<(String, Bytes)>,
}

/// An answer now, or a receiver it will arrive on.
#[derive(Debug)]
pub(crate) enum Reply<T> {
    Now(Result<T, GroupError>),
    Later(oneshot::Receiver<Result<T, GroupError>>),
}

/// An answer owed to a parked request.
#[derive(Debug)]
pub(crate) enum Delivery {
    Join(oneshot::Sender<JoinOutcome>, JoinOutcome),
    Sync(oneshot::Sender<SyncOutcome>, SyncOutcome),
}

impl Delivery {
    pub(crate) fn deliver(self) {
        // A receiver that is gone belongs to a client that hung up: nothing to tell.
        match self {
            Self::Join(tx, outcome) => drop(tx.send(outcome)),
            Self::Sync(tx, outcome) => drop(tx.send(outcome)),
        }
    }

    /// Delivers `error` instead of the planned answer (the state behind it was not saved).
    pub(crate) fn fail(self, error: GroupError) {
        match self {
            Self::Join(tx, _) => drop(tx.send(Err(error))),
            Self::Sync(tx, _) => drop(tx.send(Err(error))),
        }
    }
}

/// A consumer group.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) id: String,
    pub(crate) state: GroupState,
    pub(crate) state_since_ms: TimestampMs,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) generation: i32,
    pub(crate) leader: Option<String>,
    pub(crate) members: BTreeMap<String, Member>,
    /// `group.instance.id` → member id.
    pub(crate) static_members: HashMap<String, String>,
    /// Members told MEMBER_ID_REQUIRED, until they rejoin or their session runs out.
    pending: HashMap<String, TimestampMs>,
    /// When the join barrier opens regardless of who has rejoined.
    join_deadline_ms: Option<TimestampMs>,
    /// Set during the first rebalance of an empty group: the latest the delayed
    /// barrier may open.
    initial_join_cap_ms: Option<TimestampMs>,
    /// When members that have not sent SyncGroup are removed.
    sync_deadline_ms: Option<TimestampMs>,
    limits: Limits,
    /// Answers to deliver once the state is saved.
    pub(crate) outbox: Vec<Delivery>,
    /// Whether the saved state is behind.
    pub(crate) dirty: bool,
}

impl Group {
    pub(crate) fn new(id: &str, limits: Limits, now: TimestampMs) -> Self {
        Self {
            id: id.to_owned(),
            state: GroupState::Empty,
            state_since_ms: now,
            protocol_type: None,
            protocol_name: None,
            generation: 0,
            leader: None,
            members: BTreeMap::new(),
            static_members: HashMap::new(),
            pending: HashMap::new(),
            join_deadline_ms: None,
            initial_join_cap_ms: None,
            sync_deadline_ms: None,
            limits,
            outbox: Vec::new(),
            dirty: false,
        }
    }

    /// A group restored from its saved state. Members get a fresh session, as after a
    /// coordinator failover in Kafka; a group saved mid-rebalance rebalances again.
    pub(crate) fn restore(
        id: &str,
        limits: Limits,
        now: TimestampMs,
        saved: crate::stored::StoredGroupState,
    ) -> Self {
        let mut group = Self::new(id, limits, now);
        group.state_since_ms = saved.state_since_ms;
        group.protocol_type = saved.protocol_type;
        group.protocol_name = saved.protocol_name;
        group.generation = saved.generation;
        group.leader = saved.leader;
        for member in saved.members {
            let member = member.into_member(now);
            if let Some(instance) = &member.instance_id {
                group
                    .static_members
                    .insert(instance.clone(), member.id.clone());
            }
            group.members.insert(member.id.clone(), member);
        }
        if group
            .leader
            .as_ref()
            .is_some_and(|l| !group.members.contains_key(l))
        {
            group.leader = group.members.keys().next().cloned();
        }
        group.state = match saved.state {
            _ if group.members.is_empty() => GroupState::Empty,
            GroupState::Stable => GroupState::Stable,
            _ => {
                // Assignments of an unfinished rebalance are not to be trusted.
                group.state = GroupState::Stable;
                group.prepare_rebalance(now);
                GroupState::PreparingRebalance
            }
        };
        group
    }

    /// Whether the group has no members.
    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn transition(&mut self, state: GroupState, now: TimestampMs) {
        tracing::debug!(group = %self.id, from = self.state.as_str(), to = state.as_str(),
            generation = self.generation, "group state");
        self.state = state;
        self.state_since_ms = now;
        self.dirty = true;
    }

    // ----- JoinGroup -----

    pub(crate) fn join(&mut self, request: JoinRequest, now: TimestampMs) -> Reply<JoinResult> {
        let session = i64::from(request.session_timeout_ms);
        if session < self.limits.min_session_ms || session > self.limits.max_session_ms {
            return Reply::Now(Err(GroupError::InvalidSessionTimeout {
                requested_ms: request.session_timeout_ms,
                min_ms: self.limits.min_session_ms,
                max_ms: self.limits.max_session_ms,
            }));
        }
        if self.state == GroupState::Dead {
            return Reply::Now(Err(dead()));
        }
        if !self.supports(&request.protocol_type, &request.protocols) {
            return Reply::Now(Err(GroupError::InconsistentGroupProtocol));
        }
        if request.member_id.is_empty() {
            return self.join_new(request, now);
        }
        if self.pending.remove(&request.member_id).is_some() {
            let id = request.member_id.clone();
            return self.add_member_and_rebalance(id, request, now);
        }
        if !self.members.contains_key(&request.member_id) {
            return Reply::Now(Err(GroupError::UnknownMemberId));
        }
        if let Err(error) = self.check_instance(&request.member_id, request.instance_id.as_deref())
        {
            return Reply::Now(Err(error));
        }
        let id = request.member_id.clone();
        match self.state {
            GroupState::PreparingRebalance => {
                self.update_member(request, now);
                self.await_join(&id, now)
            }
            GroupState::CompletingRebalance => {
                if self.member(&id).same_protocols(&request.protocols) {
                    // A retried JoinGroup whose answer was lost: answer it again.
                    let is_leader = self.leader.as_deref() == Some(id.as_str());
                    Reply::Now(Ok(self.join_result(&id, is_leader)))
                } else {
                    self.update_member(request, now);
                    self.prepare_rebalance(now);
                    self.await_join(&id, now)
                }
            }
            GroupState::Stable => {
                let is_leader = self.leader.as_deref() == Some(id.as_str());
                if is_leader || !self.member(&id).same_protocols(&request.protocols) {
                    // The leader rejoins when it sees metadata change; a member whose
                    // subscription changed needs a new assignment.
                    self.update_member(request, now);
                    self.prepare_rebalance(now);
                    self.await_join(&id, now)
                } else {
                    Reply::Now(Ok(self.join_result(&id, false)))
                }
            }
            GroupState::Empty | GroupState::Dead => Reply::Now(Err(GroupError::UnknownMemberId)),
        }
    }

    fn join_new(&mut self, request: JoinRequest, now: TimestampMs) -> Reply<JoinResult> {
        let prefix = request.instance_id.as_deref().unwrap_or(&request.client_id);
        let new_id = format!("{prefix}-{}", Uuid::new_v4());
        if let Some(instance) = &request.instance_id
            && let Some(old_id) = self.static_members.get(instance).cloned()
        {
            return self.replace_static_member(&old_id, new_id, request, now);
        }
        if self.members.len() + self.pending.len() >= self.limits.max_size as usize {
            return Reply::Now(Err(GroupError::GroupMaxSizeReached(self.limits.max_size)));
        }
        if request.instance_id.is_none() && request.require_known_member_id {
            self.pending
                .insert(new_id.clone(), now + i64::from(request.session_timeout_ms));
            return Reply::Now(Err(GroupError::MemberIdRequired(new_id)));
        }
        self.add_member_and_rebalance(new_id, request, now)
    }

    /// A static member restarted: the new incarnation takes the old one's place (and its
    /// assignment), fencing the old one. No rebalance unless something changed.
    fn replace_static_member(
        &mut self,
        old_id: &str,
        new_id: String,
        request: JoinRequest,
        now: TimestampMs,
    ) -> Reply<JoinResult> {
        let Some(mut member) = self.members.remove(old_id) else {
            return Reply::Now(Err(GroupError::UnknownMemberId));
        };
        release(&mut self.outbox, &mut member, &GroupError::FencedInstanceId);
        let was_leader = self.leader.as_deref() == Some(old_id);
        let protocols_changed = !member.same_protocols(&request.protocols);
        member.id = new_id.clone();
        fill_member(&mut member, request, now);
        if let Some(instance) = &member.instance_id {
            self.static_members.insert(instance.clone(), new_id.clone());
        }
        self.members.insert(new_id.clone(), member);
        if was_leader {
            self.leader = Some(new_id.clone());
        }
        self.dirty = true;
        tracing::info!(group = %self.id, old = old_id, new = %new_id, "static member replaced");
        match self.state {
            GroupState::Stable if !protocols_changed => {
                // It gets its old assignment from SyncGroup. A returning leader sees the
                // members (as Kafka's KIP-814) but is told to skip assigning: the group
                // keeps the assignment it has.
                let mut result = self.join_result(&new_id, was_leader);
                result.skip_assignment = was_leader;
                Reply::Now(Ok(result))
            }
            GroupState::PreparingRebalance => self.await_join(&new_id, now),
            _ => {
                self.prepare_rebalance(now);
                self.await_join(&new_id, now)
            }
        }
    }

    fn add_member_and_rebalance(
        &mut self,
        id: String,
        request: JoinRequest,
        now: TimestampMs,
    ) -> Reply<JoinResult> {
        if self.members.is_empty() {
            self.protocol_type = Some(request.protocol_type.clone());
        }
        let mut member = Member {
            id: id.clone(),
            instance_id: None,
            client_id: String::new(),
            client_host: String::new(),
            session_timeout_ms: 0,
            rebalance_timeout_ms: 0,
            protocols: Vec::new(),
            assignment: Bytes::new(),
            awaiting_join: None,
            awaiting_sync: None,
            session_deadline_ms: now,
        };
        fill_member(&mut member, request, now);
        if let Some(instance) = &member.instance_id {
            self.static_members.insert(instance.clone(), id.clone());
        }
        tracing::info!(group = %self.id, member = %id, "member joined");
        self.members.insert(id.clone(), member);
        if self.leader.is_none() {
            self.leader = Some(id.clone());
        }
        self.dirty = true;
        if self.state == GroupState::PreparingRebalance {
            if let Some(cap) = self.initial_join_cap_ms {
                // A member arrived during the initial delay: wait a little longer for more.
                self.join_deadline_ms = Some((now + self.limits.initial_delay_ms).min(cap));
            }
        } else {
            self.prepare_rebalance(now);
        }
        self.await_join(&id, now)
    }

    fn update_member(&mut self, request: JoinRequest, now: TimestampMs) {
        if let Some(member) = self.members.get_mut(&request.member_id) {
            fill_member(member, request, now);
            self.dirty = true;
        }
    }

    fn await_join(&mut self, id: &str, now: TimestampMs) -> Reply<JoinResult> {
        let (tx, rx) = oneshot::channel();
        if let Some(member) = self.members.get_mut(id)
            && let Some(old) = member.awaiting_join.replace(tx)
        {
            // The client gave up on its earlier JoinGroup and sent another.
            self.outbox
                .push(Delivery::Join(old, Err(GroupError::RebalanceInProgress)));
        }
        self.maybe_complete_join(now);
        Reply::Later(rx)
    }

    /// Starts a rebalance: every member must rejoin within the largest rebalance timeout.
    fn prepare_rebalance(&mut self, now: TimestampMs) {
        if self.state == GroupState::CompletingRebalance {
            self.abort_sync(GroupError::RebalanceInProgress);
        }
        let rebalance_ms = self.rebalance_timeout_ms();
        if self.state == GroupState::Empty && self.limits.initial_delay_ms > 0 {
            // The first members of an empty group usually start together: wait a moment
            // so they share one rebalance instead of each causing one.
            self.join_deadline_ms = Some(now + self.limits.initial_delay_ms.min(rebalance_ms));
            self.initial_join_cap_ms = Some(now + rebalance_ms);
        } else {
            self.join_deadline_ms = Some(now + rebalance_ms);
            self.initial_join_cap_ms = None;
        }
        self.sync_deadline_ms = None;
        self.transition(GroupState::PreparingRebalance, now);
    }

    /// Opens the join barrier if every member has rejoined (outside the initial delay) or
    /// the deadline passed: members that did not rejoin are removed, the generation moves
    /// on and every joined member gets its answer (the leader with everyone's metadata).
    fn maybe_complete_join(&mut self, now: TimestampMs) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let deadline_passed = self.join_deadline_ms.is_none_or(|d| now >= d);
        let everyone_in = self.pending.is_empty() && self.members.values().all(joined);
        let ready = if self.initial_join_cap_ms.is_some() {
            deadline_passed
        } else {
            everyone_in || deadline_passed
        };
        if !ready {
            return;
        }
        let missing: Vec<String> = self
            .members
            .values()
            .filter(|m| !joined(m))
            .map(|m| m.id.clone())
            .collect();
        for id in missing {
            tracing::info!(group = %self.id, member = %id, "member did not rejoin in time");
            self.remove_member(&id);
        }
        self.join_deadline_ms = None;
        self.initial_join_cap_ms = None;
        self.generation += 1;
        if self.members.is_empty() {
            self.protocol_name = None;
            self.leader = None;
            self.transition(GroupState::Empty, now);
            return;
        }
        self.protocol_name = self.select_protocol();
        if self
            .leader
            .as_ref()
            .is_none_or(|l| !self.members.contains_key(l))
        {
            self.leader = self.members.keys().next().cloned();
        }
        self.sync_deadline_ms = Some(now + self.rebalance_timeout_ms());
        self.transition(GroupState::CompletingRebalance, now);
        tracing::info!(group = %self.id, generation = self.generation,
            members = self.members.len(), protocol = ?self.protocol_name, "group rebalanced");
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let is_leader = self.leader.as_deref() == Some(id.as_str());
            let result = self.join_result(&id, is_leader);
            if let Some(member) = self.members.get_mut(&id) {
                member.assignment = Bytes::new();
                member.touch(now);
                if let Some(tx) = member.awaiting_join.take() {
                    self.outbox.push(Delivery::Join(tx, Ok(result)));
                }
            }
        }
    }

    fn join_result(&self, member_id: &str, with_members: bool) -> JoinResult {
        let protocol = self.protocol_name.clone();
        let members = if with_members {
            self.members
                .values()
                .map(|m| JoinedMember {
                    member_id: m.id.clone(),
                    instance_id: m.instance_id.clone(),
                    metadata: m.metadata_for(protocol.as_deref().unwrap_or_default()),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinResult {
            skip_assignment: false,
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: protocol,
            leader: self.leader.clone().unwrap_or_default(),
            member_id: member_id.to_owned(),
            members,
        }
    }

    /// The protocol every member supports that most members like best (ties go to the
    /// one listed first by the member listed first).
    fn select_protocol(&self) -> Option<String> {
        let first = self.members.values().next()?;
        let candidates: Vec<&str> = first
            .protocols
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|(n, _)| n == name))
            })
            .collect();
        let mut votes = vec![0usize; candidates.len()];
        for member in self.members.values() {
            if let Some(index) = member
                .protocols
                .iter()
                .find_map(|(name, _)| candidates.iter().position(|c| c == name))
            {
                votes[index] += 1;
            }
        }
        let best = votes
            .iter()
            .enumerate()
            .max_by(|(ia, a), (ib, b)| a.cmp(b).then(ib.cmp(ia)))?
            .0;
        candidates.get(best).map(|s| (*s).to_owned())
    }

    fn supports(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        if self.members.is_empty() {
            return true;
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|(name, _)| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|(n, _)| n == name))
            })
    }

    // ----- SyncGroup -----

    pub(crate) fn sync(&mut self, request: SyncRequest, now: TimestampMs) -> Reply<SyncResult> {
        if let Err(error) = self.check_current_member(
            &request.member_id,
            request.instance_id.as_deref(),
            request.generation,
        ) {
            return Reply::Now(Err(error));
        }
        if request
            .protocol_type
            .as_ref()
            .is_some_and(|t| self.protocol_type.as_ref() != Some(t))
            || request
                .protocol_name
                .as_ref()
                .is_some_and(|n| self.protocol_name.as_ref() != Some(n))
        {
            return Reply::Now(Err(GroupError::InconsistentGroupProtocol));
        }
        let id = request.member_id.clone();
        match self.state {
            GroupState::PreparingRebalance => Reply::Now(Err(GroupError::RebalanceInProgress)),
            GroupState::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                let member = self.member_mut(&id);
                member.touch(now);
                if let Some(old) = member.awaiting_sync.replace(tx) {
                    self.outbox
                        .push(Delivery::Sync(old, Err(GroupError::RebalanceInProgress)));
                }
                if self.leader.as_deref() == Some(id.as_str()) {
                    self.assign(request.assignments, now);
                }
                Reply::Later(rx)
            }
            GroupState::Stable => {
                let member = self.member_mut(&id);
                member.touch(now);
                let assignment = member.assignment.clone();
                Reply::Now(Ok(self.sync_result(assignment)))
            }
            GroupState::Empty | GroupState::Dead => Reply::Now(Err(GroupError::UnknownMemberId)),
        }
    }

    /// The leader's assignment arrived: the group is stable and every member waiting in
    /// SyncGroup gets its part (members the leader left out get an empty one).
    fn assign(&mut self, assignments: Vec<(String, Bytes)>, now: TimestampMs) {
        let mut by_member: HashMap<String, Bytes> = assignments.into_iter().collect();
        let result_template = self.sync_result(Bytes::new());
        for member in self.members.values_mut() {
            member.assignment = by_member.remove(&member.id).unwrap_or_default();
            if let Some(tx) = member.awaiting_sync.take() {
                let mut result = result_template.clone();
                result.assignment = member.assignment.clone();
                self.outbox.push(Delivery::Sync(tx, Ok(result)));
            }
        }
        self.sync_deadline_ms = None;
        self.transition(GroupState::Stable, now);
    }

    fn sync_result(&self, assignment: Bytes) -> SyncResult {
        SyncResult {
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            assignment,
        }
    }

    /// Members waiting for an assignment that will not come get `error`.
    fn abort_sync(&mut self, error: GroupError) {
        for member in self.members.values_mut() {
            member.assignment = Bytes::new();
            if let Some(tx) = member.awaiting_sync.take() {
                self.outbox.push(Delivery::Sync(tx, Err(error.clone())));
            }
        }
    }

    // ----- Heartbeat, LeaveGroup, OffsetCommit -----

    pub(crate) fn heartbeat(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        now: TimestampMs,
    ) -> Result<(), GroupError> {
        self.check_current_member(member_id, instance_id, generation)?;
        self.member_mut(member_id).touch(now);
        match self.state {
            GroupState::PreparingRebalance => Err(GroupError::RebalanceInProgress),
            _ => Ok(()),
        }
    }

    /// Removes one member (or, for a static member, whoever holds `instance_id`).
    pub(crate) fn leave(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        now: TimestampMs,
    ) -> Result<(), GroupError> {
        if self.state == GroupState::Dead {
            return Err(dead());
        }
        let id = match instance_id {
            Some(instance) => {
                let current = self
                    .static_members
                    .get(instance)
                    .ok_or(GroupError::UnknownMemberId)?;
                if !member_id.is_empty() && member_id != current {
                    return Err(GroupError::FencedInstanceId);
                }
                current.clone()
            }
            None => {
                if self.pending.remove(member_id).is_some() {
                    self.maybe_complete_join(now);
                    return Ok(());
                }
                if !self.members.contains_key(member_id) {
                    return Err(GroupError::UnknownMemberId);
                }
                member_id.to_owned()
            }
        };
        tracing::info!(group = %self.id, member = %id, "member left");
        self.remove_member_and_rebalance(&id, now);
        Ok(())
    }

    /// Whether an OffsetCommit from this member at this generation may be written.
    pub(crate) fn validate_commit(
        &mut self,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: TimestampMs,
    ) -> Result<(), GroupError> {
        if self.state == GroupState::Dead {
            return Err(dead());
        }
        if generation < 0 && member_id.is_empty() && instance_id.is_none() {
            // A consumer managing its own partitions (or an admin tool): only while no
            // member of a group generation could be overwritten.
            return if self.members.is_empty() {
                Ok(())
            } else {
                Err(GroupError::UnknownMemberId)
            };
        }
        self.check_current_member(member_id, instance_id, generation)?;
        if self.state == GroupState::CompletingRebalance {
            return Err(GroupError::RebalanceInProgress);
        }
        self.member_mut(member_id).touch(now);
        Ok(())
    }

    // ----- time -----

    /// Expires members whose session ran out, members that never came back for their
    /// id, and members that did not sync in time; opens a join barrier whose deadline
    /// passed.
    pub(crate) fn tick(&mut self, now: TimestampMs) {
        // A parked request whose client hung up will never be answered: the member is
        // no longer waiting on us, and expires with its session unless it comes back.
        for member in self.members.values_mut() {
            if member.awaiting_join.as_ref().is_some_and(|s| s.is_closed()) {
                member.awaiting_join = None;
            }
            if member.awaiting_sync.as_ref().is_some_and(|s| s.is_closed()) {
                member.awaiting_sync = None;
            }
        }
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| m.session_deadline_ms < now && !m.is_waiting())
            .map(|m| m.id.clone())
            .collect();
        for id in expired {
            tracing::info!(group = %self.id, member = %id, "member session timed out");
            self.remove_member_and_rebalance(&id, now);
        }
        let pending_before = self.pending.len();
        self.pending.retain(|_, deadline| *deadline >= now);
        if self.state == GroupState::CompletingRebalance
            && self.sync_deadline_ms.is_some_and(|d| now >= d)
        {
            let missing: Vec<String> = self
                .members
                .values()
                .filter(|m| m.awaiting_sync.as_ref().is_none_or(|s| s.is_closed()))
                .map(|m| m.id.clone())
                .collect();
            for id in missing {
                tracing::info!(group = %self.id, member = %id, "member did not sync in time");
                self.remove_member(&id);
            }
            self.prepare_rebalance(now);
        }
        if self.pending.len() != pending_before || self.state == GroupState::PreparingRebalance {
            self.maybe_complete_join(now);
        }
    }

    /// The earliest time [`Group::tick`] has something to do.
    pub(crate) fn next_deadline(&self) -> Option<TimestampMs> {
        let members = self.members.values().map(|m| m.session_deadline_ms);
        let pending = self.pending.values().copied();
        members
            .chain(pending)
            .chain(self.join_deadline_ms)
            .chain(self.sync_deadline_ms)
            .min()
    }

    /// Hands the group over (deleted, or coordinated elsewhere now): every parked
    /// request gets `error`.
    pub(crate) fn shut(&mut self, error: &GroupError, now: TimestampMs) {
        for member in self.members.values_mut() {
            release(&mut self.outbox, member, error);
        }
        self.state = GroupState::Dead;
        self.state_since_ms = now;
    }

    // ----- helpers -----

    fn remove_member_and_rebalance(&mut self, id: &str, now: TimestampMs) {
        self.remove_member(id);
        if matches!(
            self.state,
            GroupState::Stable | GroupState::CompletingRebalance
        ) {
            self.prepare_rebalance(now);
        }
        self.maybe_complete_join(now);
    }

    fn remove_member(&mut self, id: &str) {
        let Some(mut member) = self.members.remove(id) else {
            return;
        };
        release(&mut self.outbox, &mut member, &GroupError::UnknownMemberId);
        if let Some(instance) = &member.instance_id
            && self.static_members.get(instance).map(String::as_str) == Some(id)
        {
            self.static_members.remove(instance);
        }
        if self.leader.as_deref() == Some(id) {
            self.leader = self.members.keys().next().cloned();
        }
        self.dirty = true;
    }

    /// The checks every request from an existing member passes: the member exists, is
    /// not a fenced static incarnation, and speaks of the current generation.
    fn check_current_member(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
    ) -> Result<(), GroupError> {
        if self.state == GroupState::Dead {
            return Err(dead());
        }
        if !self.members.contains_key(member_id) {
            return Err(match instance_id {
                // An instance id that another member id holds now: a zombie.
                Some(instance) if self.static_members.contains_key(instance) => {
                    GroupError::FencedInstanceId
                }
                _ => GroupError::UnknownMemberId,
            });
        }
        self.check_instance(member_id, instance_id)?;
        if generation != self.generation {
            return Err(GroupError::IllegalGeneration);
        }
        Ok(())
    }

    fn check_instance(&self, member_id: &str, instance_id: Option<&str>) -> Result<(), GroupError> {
        let Some(instance) = instance_id else {
            return Ok(());
        };
        match self.static_members.get(instance) {
            Some(current) if current == member_id => Ok(()),
            Some(_) => Err(GroupError::FencedInstanceId),
            None => Err(GroupError::UnknownMemberId),
        }
    }

    fn member(&self, id: &str) -> &Member {
        &self.members[id]
    }

    fn member_mut(&mut self, id: &str) -> &mut Member {
        self.members
            .get_mut(id)
            .unwrap_or_else(|| unreachable!("member {id} was checked to exist"))
    }

    fn rebalance_timeout_ms(&self) -> i64 {
        self.members
            .values()
            .map(|m| i64::from(m.rebalance_timeout_ms))
            .max()
            .unwrap_or(0)
    }
}

/// Answers whatever the member has parked with us with `error`.
fn release(outbox: &mut Vec<Delivery>, member: &mut Member, error: &GroupError) {
    if let Some(tx) = member.awaiting_join.take() {
        outbox.push(Delivery::Join(tx, Err(error.clone())));
    }
    if let Some(tx) = member.awaiting_sync.take() {
        outbox.push(Delivery::Sync(tx, Err(error.clone())));
    }
}

/// Whether a member has rejoined and its client still waits for the answer.
fn joined(member: &Member) -> bool {
    member
        .awaiting_join
        .as_ref()
        .is_some_and(|s| !s.is_closed())
}

fn dead() -> GroupError {
    GroupError::CoordinatorNotAvailable("the group is being unloaded or deleted".to_owned())
}

fn fill_member(member: &mut Member, request: JoinRequest, now: TimestampMs) {
    member.instance_id = request.instance_id;
    member.client_id = request.client_id;
    member.client_host = request.client_host;
    member.session_timeout_ms = request.session_timeout_ms;
    // JoinGroup v0 has no rebalance timeout; Kafka uses the session timeout then.
    member.rebalance_timeout_ms = if request.rebalance_timeout_ms > 0 {
        request.rebalance_timeout_ms
    } else {
        request.session_timeout_ms
    };
    member.protocols = request.protocols;
    member.touch(now);
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
