//! ListGroups: the groups this agent coordinates, optionally filtered by state (v4+)
//! and type (v5+).

use streamhouse_groups::GroupState;
use streamhouse_kafka_proto::StrBytes;
use streamhouse_kafka_proto::messages::list_groups_response::ListedGroup;
use streamhouse_kafka_proto::messages::{ListGroupsRequest, ListGroupsResponse};

use crate::error::group_error_code;
use crate::listener::ServerContext;

/// Every group here speaks the classic protocol (KIP-848's `consumer` type is not served).
const CLASSIC: &str = "classic";

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: ListGroupsRequest,
) -> ListGroupsResponse {
    let groups = match context.groups.list_groups().await {
        Ok(groups) => groups,
        Err(error) => {
            return ListGroupsResponse::default().with_error_code(group_error_code(&error).code());
        }
    };
    // An unknown state name matches nothing, as in Kafka.
    let states: Vec<Option<GroupState>> = request
        .states_filter
        .iter()
        .map(|s| GroupState::parse(s))
        .collect();
    let types_match = request.types_filter.is_empty()
        || request
            .types_filter
            .iter()
            .any(|t| t.eq_ignore_ascii_case(CLASSIC));
    ListGroupsResponse::default().with_groups(
        groups
            .into_iter()
            .filter(|g| types_match && (states.is_empty() || states.contains(&Some(g.state))))
            .map(|g| {
                ListedGroup::default()
                    .with_group_id(StrBytes::from_string(g.group_id).into())
                    .with_protocol_type(StrBytes::from_string(g.protocol_type))
                    .with_group_state(StrBytes::from_static_str(g.state.as_str()))
                    .with_group_type(StrBytes::from_static_str(CLASSIC))
            })
            .collect(),
    )
}
