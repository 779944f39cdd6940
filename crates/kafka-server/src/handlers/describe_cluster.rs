//! DescribeCluster: the live agents as brokers.

use streamhouse_kafka_proto::StrBytes;
use streamhouse_kafka_proto::messages::describe_cluster_response::DescribeClusterBroker;
use streamhouse_kafka_proto::messages::{
    BrokerId, DescribeClusterRequest, DescribeClusterResponse,
};

use crate::cluster::{live_brokers, node_id};
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    _request: DescribeClusterRequest,
) -> DescribeClusterResponse {
    let brokers = live_brokers(context)
        .await
        .into_iter()
        .map(|b| {
            DescribeClusterBroker::default()
                .with_broker_id(BrokerId(b.node_id))
                .with_host(StrBytes::from_string(b.host))
                .with_port(b.port)
                .with_rack(b.rack.map(StrBytes::from_string))
        })
        .collect();
    DescribeClusterResponse::default()
        .with_cluster_id(StrBytes::from_static_str("streamhouse"))
        .with_controller_id(BrokerId(node_id(context.engine.agent_id())))
        .with_brokers(brokers)
}
