//! DeleteGroups: remove groups without members, with their committed offsets.

use streamhouse_kafka_proto::messages::delete_groups_response::DeletableGroupResult;
use streamhouse_kafka_proto::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use crate::error::group_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: DeleteGroupsRequest,
) -> DeleteGroupsResponse {
    let mut results = Vec::with_capacity(request.groups_names.len());
    for group_id in request.groups_names {
        let result = context.groups.delete_group(&group_id.0).await;
        results.push(
            DeletableGroupResult::default()
                .with_group_id(group_id)
                .with_error_code(group_code(&result)),
        );
    }
    DeleteGroupsResponse::default().with_results(results)
}
