//! FindCoordinator: every group is coordinated by the agent asked, for now (the group
//! protocol itself arrives with consumer groups). Transactions are not supported yet.

use streamhouse_kafka_proto::messages::find_coordinator_response::Coordinator;
use streamhouse_kafka_proto::messages::{
    BrokerId, FindCoordinatorRequest, FindCoordinatorResponse,
};
use streamhouse_kafka_proto::{ErrorCode, StrBytes};

use crate::cluster::node_id;
use crate::listener::ServerContext;

const GROUP: i8 = 0;

pub(crate) async fn handle(
    context: &ServerContext,
    version: i16,
    request: FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    let node = BrokerId(node_id(context.engine.agent_id()));
    let host = StrBytes::from_string(context.advertised.0.clone());
    let port = context.advertised.1;
    let error = (request.key_type != GROUP).then_some(ErrorCode::CoordinatorNotAvailable);
    if version < 4 {
        let response = FindCoordinatorResponse::default();
        return match error {
            Some(code) => response
                .with_node_id(BrokerId(-1))
                .with_port(-1)
                .with_error_code(code.code())
                .with_error_message(
                    (version >= 1)
                        .then(|| StrBytes::from_static_str("transactions are not supported yet")),
                ),
            None => response.with_node_id(node).with_host(host).with_port(port),
        };
    }
    // v4+: a batch of keys.
    let coordinators = request
        .coordinator_keys
        .into_iter()
        .map(|key| {
            let coordinator = Coordinator::default().with_key(key);
            match error {
                Some(code) => coordinator
                    .with_node_id(BrokerId(-1))
                    .with_port(-1)
                    .with_error_code(code.code()),
                None => coordinator
                    .with_node_id(node)
                    .with_host(host.clone())
                    .with_port(port),
            }
        })
        .collect();
    FindCoordinatorResponse::default().with_coordinators(coordinators)
}
