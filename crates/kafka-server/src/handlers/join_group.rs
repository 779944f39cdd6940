//! JoinGroup: enter the group's join barrier; answered when the rebalance completes.

use bytes::Bytes;
use streamhouse_groups::{GroupError, JoinRequest};
use streamhouse_kafka_proto::StrBytes;
use streamhouse_kafka_proto::messages::join_group_response::JoinGroupResponseMember;
use streamhouse_kafka_proto::messages::{JoinGroupRequest, JoinGroupResponse};

use crate::error::group_error_code;
use crate::handlers::Caller;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    version: i16,
    caller: &Caller,
    request: JoinGroupRequest,
) -> JoinGroupResponse {
    let join = JoinRequest {
        member_id: request.member_id.to_string(),
        instance_id: request.group_instance_id.map(|s| s.to_string()),
        client_id: caller.client_id.clone(),
        client_host: caller.host.clone(),
        session_timeout_ms: request.session_timeout_ms,
        // -1 in v0, which has none; the group lets the session timeout stand in.
        rebalance_timeout_ms: request.rebalance_timeout_ms,
        protocol_type: request.protocol_type.to_string(),
        protocols: request
            .protocols
            .into_iter()
            .map(|p| (p.name.to_string(), p.metadata))
            .collect::<Vec<(String, Bytes)>>(),
        require_known_member_id: version >= 4,
    };
    let group_id = request.group_id.0.to_string();
    let response = JoinGroupResponse::default()
        .with_generation_id(-1)
        .with_member_id(request.member_id);
    match context.groups.join(&group_id, join).await {
        Ok(joined) => response
            .with_generation_id(joined.generation)
            .with_protocol_type(joined.protocol_type.map(StrBytes::from_string))
            .with_protocol_name(joined.protocol_name.map(StrBytes::from_string))
            .with_leader(StrBytes::from_string(joined.leader))
            .with_member_id(StrBytes::from_string(joined.member_id))
            .with_skip_assignment(version >= 9 && joined.skip_assignment)
            .with_members(
                joined
                    .members
                    .into_iter()
                    .map(|m| {
                        JoinGroupResponseMember::default()
                            .with_member_id(StrBytes::from_string(m.member_id))
                            .with_group_instance_id(m.instance_id.map(StrBytes::from_string))
                            .with_metadata(m.metadata)
                    })
                    .collect(),
            ),
        Err(error) => {
            let response = response.with_error_code(group_error_code(&error).code());
            match error {
                // The new member's id travels with the error: it rejoins with it.
                GroupError::MemberIdRequired(member_id) => {
                    response.with_member_id(StrBytes::from_string(member_id))
                }
                _ => response,
            }
        }
    }
}
