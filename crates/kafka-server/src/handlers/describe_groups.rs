//! DescribeGroups: state, protocol and members of each group.

use streamhouse_kafka_proto::StrBytes;
use streamhouse_kafka_proto::messages::describe_groups_response::{
    DescribedGroup, DescribedGroupMember,
};
use streamhouse_kafka_proto::messages::{DescribeGroupsRequest, DescribeGroupsResponse};

use crate::error::group_error_code;
use crate::listener::ServerContext;

/// "Not computed": StreamHouse has no ACLs yet.
const NO_OPERATIONS: i32 = i32::MIN;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: DescribeGroupsRequest,
) -> DescribeGroupsResponse {
    let mut groups = Vec::with_capacity(request.groups.len());
    for group_id in request.groups {
        let described = DescribedGroup::default()
            .with_group_id(group_id.clone())
            .with_authorized_operations(NO_OPERATIONS);
        groups.push(match context.groups.describe_group(&group_id.0).await {
            Ok(group) => described
                .with_group_state(StrBytes::from_static_str(group.state.as_str()))
                .with_protocol_type(StrBytes::from_string(group.protocol_type))
                .with_protocol_data(StrBytes::from_string(group.protocol_name))
                .with_members(
                    group
                        .members
                        .into_iter()
                        .map(|m| {
                            DescribedGroupMember::default()
                                .with_member_id(StrBytes::from_string(m.member_id))
                                .with_group_instance_id(m.instance_id.map(StrBytes::from_string))
                                .with_client_id(StrBytes::from_string(m.client_id))
                                .with_client_host(StrBytes::from_string(m.client_host))
                                .with_member_metadata(m.metadata)
                                .with_member_assignment(m.assignment)
                        })
                        .collect(),
                ),
            Err(error) => described
                .with_error_code(group_error_code(&error).code())
                .with_group_state(StrBytes::from_static_str("Dead")),
        });
    }
    DescribeGroupsResponse::default().with_groups(groups)
}
