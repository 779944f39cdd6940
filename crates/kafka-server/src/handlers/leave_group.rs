//! LeaveGroup: one member (v0-2) or a batch of members (v3+) leave at once.

use streamhouse_kafka_proto::messages::leave_group_response::MemberResponse;
use streamhouse_kafka_proto::messages::{LeaveGroupRequest, LeaveGroupResponse};

use crate::error::{group_code, group_error_code};
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    version: i16,
    request: LeaveGroupRequest,
) -> LeaveGroupResponse {
    let leaving: Vec<(String, Option<String>)> = if version < 3 {
        vec![(request.member_id.to_string(), None)]
    } else {
        request
            .members
            .iter()
            .map(|m| {
                (
                    m.member_id.to_string(),
                    m.group_instance_id.as_ref().map(|s| s.to_string()),
                )
            })
            .collect()
    };
    match context.groups.leave(&request.group_id.0, &leaving).await {
        Ok(results) if version < 3 => {
            LeaveGroupResponse::default().with_error_code(group_code(&results[0]))
        }
        Ok(results) => LeaveGroupResponse::default().with_members(
            request
                .members
                .into_iter()
                .zip(results)
                .map(|(member, result)| {
                    MemberResponse::default()
                        .with_member_id(member.member_id)
                        .with_group_instance_id(member.group_instance_id)
                        .with_error_code(group_code(&result))
                })
                .collect(),
        ),
        Err(error) => {
            LeaveGroupResponse::default().with_error_code(group_error_code(&error).code())
        }
    }
}
