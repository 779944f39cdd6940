//! Heartbeat: keeps a member's session alive and tells it when to rejoin.

use streamhouse_kafka_proto::messages::{HeartbeatRequest, HeartbeatResponse};

use crate::error::group_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: HeartbeatRequest,
) -> HeartbeatResponse {
    let result = context
        .groups
        .heartbeat(
            &request.group_id.0,
            &request.member_id,
            request.group_instance_id.as_deref(),
            request.generation_id,
        )
        .await;
    HeartbeatResponse::default().with_error_code(group_code(&result))
}
