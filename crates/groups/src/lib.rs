//! The StreamHouse consumer-group coordinator.
//!
//! Layer: above the engine and the metadata store, below the Kafka listener (and the
//! REST API). It implements Kafka's classic group protocol — JoinGroup, SyncGroup,
//! Heartbeat, LeaveGroup — with the rebalance state machine as Kafka defines it
//! ([`GroupState`]), static membership, committed offsets, and lag. Assignors run in
//! the clients; the coordinator passes their metadata through untouched.
//!
//! Which agent coordinates a group is decided by rendezvous hashing over the live
//! agents ([`coordinator_of`]). The coordinator claims a group in the metadata store,
//! which bumps a coordinator epoch; every save of the group and every offset commit is
//! fenced by that epoch, so an agent that lost a group can never overwrite its new
//! coordinator. The saved state (generation, members, assignments) lets a restarted or
//! different agent continue a group without a rebalance.
#![warn(missing_docs)]

mod consumer_protocol;
mod coordinator;
mod error;
mod group;
mod member;
mod ownership;
mod stored;

pub use consumer_protocol::CONSUMER;
pub use coordinator::{
    GroupCoordinator, GroupDescription, GroupLag, GroupOverview, MemberDescription, OffsetCommit,
    PartitionLag,
};
pub use error::GroupError;
pub use group::{GroupState, JoinRequest, SyncRequest};
pub use member::{JoinResult, JoinedMember, SyncResult};
pub use ownership::coordinator_of;
