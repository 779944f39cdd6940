//! Metadata: brokers (live agents), topics, partitions and their leaders (lease holders),
//! with Kafka's topic auto-creation.

use streamhouse_kafka_proto::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use streamhouse_kafka_proto::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use streamhouse_kafka_proto::{ErrorCode, StrBytes};
use streamhouse_metadata::{PartitionState, Topic, TopicConfig};

use crate::cluster::{live_brokers, node_id};
use crate::error::to_error_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    version: i16,
    request: MetadataRequest,
) -> MetadataResponse {
    let engine = &context.engine;
    let own_id = node_id(engine.agent_id());
    let mut response = MetadataResponse::default()
        .with_cluster_id(Some(StrBytes::from_static_str("streamhouse")))
        .with_controller_id(BrokerId(own_id));

    let now = streamhouse_types::Clock::now_ms(&streamhouse_types::SystemClock);
    let brokers = live_brokers(context)
        .await
        .into_iter()
        .map(|b| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(b.node_id))
                .with_host(StrBytes::from_string(b.host))
                .with_port(b.port)
                .with_rack(b.rack.map(StrBytes::from_string))
        })
        .collect();
    response.brokers = brokers;

    let names: Vec<Option<String>> = match request.topics {
        None => match engine.list_topics().await {
            Ok(topics) => topics.into_iter().map(|t| Some(t.name)).collect(),
            Err(error) => {
                tracing::warn!(%error, "listing topics for Metadata failed");
                Vec::new()
            }
        },
        Some(topics) => topics
            .into_iter()
            .map(|t| t.name.map(|n| n.0.to_string()))
            .collect(),
    };
    let auto_create =
        context.config.auto_create_topics && (version < 4 || request.allow_auto_topic_creation);
    for name in names {
        let Some(name) = name else {
            response.topics.push(
                MetadataResponseTopic::default().with_error_code(ErrorCode::UnknownTopicId.code()),
            );
            continue;
        };
        response
            .topics
            .push(describe(context, &name, auto_create, now).await);
    }
    response
}

/// One topic's entry, creating it first if allowed.
pub(crate) async fn describe(
    context: &ServerContext,
    name: &str,
    auto_create: bool,
    now: i64,
) -> MetadataResponseTopic {
    let engine = &context.engine;
    let entry = MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(name.to_owned()))));
    let topic: Result<Topic, _> = match engine.topic(name).await {
        Err(streamhouse_engine::Error::UnknownTopic(_)) if auto_create => {
            match engine
                .create_topic(name, context.default_partitions, TopicConfig::default())
                .await
            {
                Ok(topic) => Ok(topic),
                Err(streamhouse_engine::Error::TopicExists(_)) => engine.topic(name).await,
                Err(error) => Err(error),
            }
        }
        other => other,
    };
    let topic = match topic {
        Ok(topic) => topic,
        Err(error) => return entry.with_error_code(to_error_code(&error).code()),
    };
    let partitions: Vec<PartitionState> = match engine.metadata().partitions(Some(name)).await {
        Ok(partitions) => partitions,
        Err(error) => return entry.with_error_code(to_error_code(&error.into()).code()),
    };
    entry.with_topic_id(topic.id).with_partitions(
        partitions
            .into_iter()
            .map(|p| {
                let leader = p
                    .leader
                    .as_deref()
                    .filter(|_| p.lease_expires_at_ms > now)
                    .map(node_id);
                let partition = MetadataResponsePartition::default()
                    .with_partition_index(p.partition)
                    .with_leader_epoch(p.leader_epoch);
                match leader {
                    Some(leader) => partition
                        .with_leader_id(BrokerId(leader))
                        .with_replica_nodes(vec![BrokerId(leader)])
                        .with_isr_nodes(vec![BrokerId(leader)]),
                    None => partition
                        .with_leader_id(BrokerId(-1))
                        .with_error_code(ErrorCode::LeaderNotAvailable.code()),
                }
            })
            .collect(),
    )
}
