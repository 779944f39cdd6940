//! FindCoordinator: which agent coordinates a group (rendezvous hashing over the live
//! agents, so every agent gives the same answer). v4+ asks for a batch of keys.
//! Transactions are not supported yet.

use streamhouse_groups::GroupError;
use streamhouse_kafka_proto::messages::find_coordinator_response::Coordinator;
use streamhouse_kafka_proto::messages::{
    BrokerId, FindCoordinatorRequest, FindCoordinatorResponse,
};
use streamhouse_kafka_proto::{ErrorCode, StrBytes};

use crate::cluster::{Broker, live_brokers, node_id};
use crate::error::group_error_code;
use crate::listener::ServerContext;

const GROUP: i8 = 0;

/// The answer for one key: the broker, or an error code and message.
type Found = Result<Broker, (ErrorCode, String)>;

pub(crate) async fn handle(
    context: &ServerContext,
    version: i16,
    request: FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    let keys: Vec<StrBytes> = if version < 4 {
        vec![request.key.clone()]
    } else {
        request.coordinator_keys.clone()
    };
    let brokers = live_brokers(context).await;
    let mut found = Vec::with_capacity(keys.len());
    for key in &keys {
        found.push(find(context, &brokers, request.key_type, key).await);
    }
    if version < 4 {
        let response = FindCoordinatorResponse::default();
        return match found.remove(0) {
            Ok(broker) => response
                .with_node_id(BrokerId(broker.node_id))
                .with_host(StrBytes::from_string(broker.host))
                .with_port(broker.port),
            Err((code, message)) => response
                .with_node_id(BrokerId(-1))
                .with_port(-1)
                .with_error_code(code.code())
                .with_error_message((version >= 1).then(|| StrBytes::from_string(message))),
        };
    }
    let coordinators = keys
        .into_iter()
        .zip(found)
        .map(|(key, found)| {
            let coordinator = Coordinator::default().with_key(key);
            match found {
                Ok(broker) => coordinator
                    .with_node_id(BrokerId(broker.node_id))
                    .with_host(StrBytes::from_string(broker.host))
                    .with_port(broker.port),
                Err((code, message)) => coordinator
                    .with_node_id(BrokerId(-1))
                    .with_port(-1)
                    .with_error_code(code.code())
                    .with_error_message(Some(StrBytes::from_string(message))),
            }
        })
        .collect();
    FindCoordinatorResponse::default().with_coordinators(coordinators)
}

async fn find(context: &ServerContext, brokers: &[Broker], key_type: i8, key: &str) -> Found {
    if key_type != GROUP {
        return Err((
            ErrorCode::CoordinatorNotAvailable,
            "transactions are not supported yet".to_owned(),
        ));
    }
    if key.is_empty() {
        let error = GroupError::InvalidGroupId(String::new());
        return Err((group_error_code(&error), error.to_string()));
    }
    let agent = context
        .groups
        .coordinator_of(key)
        .await
        .map_err(|e| (group_error_code(&e), e.to_string()))?;
    let node = node_id(&agent);
    brokers
        .iter()
        .find(|b| b.node_id == node)
        .cloned()
        .ok_or_else(|| {
            (
                ErrorCode::CoordinatorNotAvailable,
                format!("coordinator agent {agent} has no known address"),
            )
        })
}
