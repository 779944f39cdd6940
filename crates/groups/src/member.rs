//! A group member: what it told the coordinator, and what the coordinator owes it.

use bytes::Bytes;
use streamhouse_types::TimestampMs;
use tokio::sync::oneshot;

use crate::GroupError;

/// A member's answer to JoinGroup, once the join barrier opens.
pub(crate) type JoinOutcome = Result<JoinResult, GroupError>;
/// A member's answer to SyncGroup, once the leader has assigned.
pub(crate) type SyncOutcome = Result<SyncResult, GroupError>;

/// What JoinGroup returns to a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResult {
    /// The new generation.
    pub generation: i32,
    /// The group's protocol type (e.g. `consumer`).
    pub protocol_type: Option<String>,
    /// The protocol chosen for this generation (e.g. `range`, `cooperative-sticky`).
    pub protocol_name: Option<String>,
    /// The leader's member id.
    pub leader: String,
    /// This member's id.
    pub member_id: String,
    /// Every member with its metadata for the chosen protocol; only the leader gets it.
    pub members: Vec<JoinedMember>,
    /// The leader must not compute a new assignment: it rejoined as a static member and
    /// the group keeps its current one (JoinGroup v9+; older leaders' SyncGroup
    /// assignments are ignored while the group is stable).
    pub skip_assignment: bool,
}

/// A member as the leader sees it in its JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub instance_id: Option<String>,
    /// The member's metadata for the chosen protocol, passed through untouched.
    pub metadata: Bytes,
}

/// What SyncGroup returns to a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResult {
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// The generation's protocol.
    pub protocol_name: Option<String>,
    /// This member's assignment, as the leader encoded it.
    pub assignment: Bytes,
}

/// One member of a group.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) session_timeout_ms: i32,
    pub(crate) rebalance_timeout_ms: i32,
    /// `(name, metadata)` in the member's order of preference.
    pub(crate) protocols: Vec<(String, Bytes)>,
    /// The assignment of the current generation (empty until the leader syncs).
    pub(crate) assignment: Bytes,
    /// Set while the member waits in the join barrier.
    pub(crate) awaiting_join: Option<oneshot::Sender<JoinOutcome>>,
    /// Set while the member waits for the leader's assignment.
    pub(crate) awaiting_sync: Option<oneshot::Sender<SyncOutcome>>,
    /// When the member is expired unless it heartbeats (or is waiting on us).
    pub(crate) session_deadline_ms: TimestampMs,
}

impl Member {
    /// Whether the member's request is parked with us and its client still waits for it.
    /// A parked member cannot heartbeat, so it must not expire meanwhile.
    pub(crate) fn is_waiting(&self) -> bool {
        self.awaiting_join.as_ref().is_some_and(|s| !s.is_closed())
            || self.awaiting_sync.as_ref().is_some_and(|s| !s.is_closed())
    }

    pub(crate) fn touch(&mut self, now_ms: TimestampMs) {
        self.session_deadline_ms = now_ms + i64::from(self.session_timeout_ms);
    }

    pub(crate) fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(name, _)| name == protocol)
            .map(|(_, metadata)| metadata.clone())
            .unwrap_or_default()
    }

    /// Whether `protocols` are the ones this member already registered, metadata included.
    pub(crate) fn same_protocols(&self, protocols: &[(String, Bytes)]) -> bool {
        self.protocols == protocols
    }
}
