//! The API's answers, typed with the fields the tables show (see the handlers in
//! `admin-api/src/routes/` for the whole shapes; unknown fields are ignored, so newer
//! servers still work).

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct TopicSummary {
    pub(crate) name: String,
    pub(crate) partitions: i32,
    pub(crate) records: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PartitionInfo {
    pub(crate) partition: i32,
    pub(crate) log_start_offset: i64,
    pub(crate) high_watermark: i64,
    pub(crate) records: i64,
    pub(crate) leader: Option<String>,
    pub(crate) leader_epoch: i32,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TopicDetail {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) created_at_ms: i64,
    pub(crate) records: i64,
    pub(crate) configs: BTreeMap<String, String>,
    pub(crate) partitions: Vec<PartitionInfo>,
}

/// A key, value or header value: bytes as `encoding` says.
#[derive(Debug, Deserialize)]
pub(crate) struct Shown {
    pub(crate) encoding: String,
    pub(crate) data: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ShownHeader {
    pub(crate) key: String,
    pub(crate) value: Option<Shown>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Message {
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Shown>,
    pub(crate) value: Option<Shown>,
    pub(crate) headers: Vec<ShownHeader>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Produced {
    pub(crate) partition: i32,
    pub(crate) offset: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GroupSummary {
    pub(crate) group_id: String,
    pub(crate) state: String,
    pub(crate) protocol_type: String,
    pub(crate) members: usize,
    pub(crate) total_lag: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PartitionLag {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) committed_offset: Option<i64>,
    pub(crate) log_end_offset: i64,
    pub(crate) lag: Option<i64>,
    pub(crate) member_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Member {
    pub(crate) member_id: String,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GroupDetail {
    pub(crate) group_id: String,
    pub(crate) state: String,
    pub(crate) protocol_type: String,
    pub(crate) protocol: String,
    pub(crate) generation: i32,
    pub(crate) members: Vec<Member>,
    pub(crate) partitions: Vec<PartitionLag>,
    pub(crate) total_lag: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CommittedOffset {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AgentView {
    pub(crate) agent_id: String,
    pub(crate) address: String,
    pub(crate) rack: Option<String>,
    pub(crate) status: String,
    pub(crate) uptime_ms: i64,
    pub(crate) partitions: usize,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Overview {
    pub(crate) topics: usize,
    pub(crate) partitions: usize,
    pub(crate) live_agents: usize,
    pub(crate) agents: usize,
    pub(crate) records: i64,
    pub(crate) consumer_groups: usize,
    pub(crate) agent_id: String,
    pub(crate) version: String,
}
