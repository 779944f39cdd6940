//! SyncGroup: the leader hands in the assignment; every member gets its part.

use streamhouse_groups::SyncRequest;
use streamhouse_kafka_proto::StrBytes;
use streamhouse_kafka_proto::messages::{SyncGroupRequest, SyncGroupResponse};

use crate::error::group_error_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: SyncGroupRequest,
) -> SyncGroupResponse {
    let sync = SyncRequest {
        generation: request.generation_id,
        member_id: request.member_id.to_string(),
        instance_id: request.group_instance_id.map(|s| s.to_string()),
        protocol_type: request.protocol_type.map(|s| s.to_string()),
        protocol_name: request.protocol_name.map(|s| s.to_string()),
        assignments: request
            .assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment))
            .collect(),
    };
    match context.groups.sync(&request.group_id.0, sync).await {
        Ok(synced) => SyncGroupResponse::default()
            .with_protocol_type(synced.protocol_type.map(StrBytes::from_string))
            .with_protocol_name(synced.protocol_name.map(StrBytes::from_string))
            .with_assignment(synced.assignment),
        Err(error) => SyncGroupResponse::default().with_error_code(group_error_code(&error).code()),
    }
}
