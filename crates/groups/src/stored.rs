//! The saved form of a group: what a coordinator on another agent (or after a restart)
//! needs to continue it without a rebalance. Opaque JSON to the metadata store.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use streamhouse_types::TimestampMs;

use crate::group::{Group, GroupState};
use crate::member::Member;

/// Bumped on incompatible changes; older agents refuse newer states rather than guess.
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredGroupState {
    pub(crate) version: u32,
    pub(crate) state: GroupState,
    pub(crate) state_since_ms: TimestampMs,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) generation: i32,
    pub(crate) leader: Option<String>,
    pub(crate) members: Vec<StoredMember>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredMember {
    pub(crate) member_id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) session_timeout_ms: i32,
    pub(crate) rebalance_timeout_ms: i32,
    pub(crate) protocols: Vec<StoredProtocol>,
    /// Base64.
    pub(crate) assignment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredProtocol {
    pub(crate) name: String,
    /// Base64.
    pub(crate) metadata: String,
}

impl StoredGroupState {
    pub(crate) fn of(group: &Group) -> Self {
        Self {
            version: FORMAT_VERSION,
            state: group.state,
            state_since_ms: group.state_since_ms,
            protocol_type: group.protocol_type.clone(),
            protocol_name: group.protocol_name.clone(),
            generation: group.generation,
            leader: group.leader.clone(),
            members: group.members.values().map(StoredMember::of).collect(),
        }
    }

    pub(crate) fn to_json(&self) -> String {
        // Plain strings and numbers: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn from_json(json: &str) -> Result<Self, String> {
        let state: Self = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if state.version != FORMAT_VERSION {
            return Err(format!(
                "saved group format {} is not {FORMAT_VERSION}",
                state.version
            ));
        }
        Ok(state)
    }
}

impl StoredMember {
    fn of(member: &Member) -> Self {
        Self {
            member_id: member.id.clone(),
            instance_id: member.instance_id.clone(),
            client_id: member.client_id.clone(),
            client_host: member.client_host.clone(),
            session_timeout_ms: member.session_timeout_ms,
            rebalance_timeout_ms: member.rebalance_timeout_ms,
            protocols: member
                .protocols
                .iter()
                .map(|(name, metadata)| StoredProtocol {
                    name: name.clone(),
                    metadata: STANDARD.encode(metadata),
                })
                .collect(),
            assignment: STANDARD.encode(&member.assignment),
        }
    }

    /// The member with a fresh session starting `now`.
    pub(crate) fn into_member(self, now: TimestampMs) -> Member {
        let decode = |s: &str| Bytes::from(STANDARD.decode(s).unwrap_or_default());
        let mut member = Member {
            id: self.member_id,
            instance_id: self.instance_id,
            client_id: self.client_id,
            client_host: self.client_host,
            session_timeout_ms: self.session_timeout_ms,
            rebalance_timeout_ms: self.rebalance_timeout_ms,
            protocols: self
                .protocols
                .iter()
                .map(|p| (p.name.clone(), decode(&p.metadata)))
                .collect(),
            assignment: decode(&self.assignment),
            awaiting_join: None,
            awaiting_sync: None,
            session_deadline_ms: now,
        };
        member.touch(now);
        member
    }
}
