//! How agents appear to Kafka clients: as brokers with stable 31-bit node ids.

use streamhouse_metadata::AgentInfo;

use crate::listener::ServerContext;

/// A broker as clients see it.
#[derive(Debug, Clone)]
pub(crate) struct Broker {
    pub(crate) node_id: i32,
    pub(crate) host: String,
    pub(crate) port: i32,
    pub(crate) rack: Option<String>,
}

/// Live agents (heartbeat within a lease TTL), always including this one.
pub(crate) async fn live_brokers(context: &ServerContext) -> Vec<Broker> {
    let engine = &context.engine;
    let now = streamhouse_types::Clock::now_ms(&streamhouse_types::SystemClock);
    let own_id = node_id(engine.agent_id());
    let mut brokers: Vec<Broker> = match engine.metadata().list_agents().await {
        Ok(agents) => agents
            .into_iter()
            // An agent that missed heartbeats for a lease TTL is as good as gone.
            .filter(|a| a.id == engine.agent_id() || a.is_live(now, context.lease_ttl_ms))
            .filter_map(|a| {
                let (host, port) = endpoint(&a)?;
                Some(Broker {
                    node_id: node_id(&a.id),
                    host,
                    port,
                    rack: a.rack,
                })
            })
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "listing agents failed");
            Vec::new()
        }
    };
    if brokers.iter().all(|b| b.node_id != own_id) {
        brokers.push(Broker {
            node_id: own_id,
            host: context.advertised.0.clone(),
            port: context.advertised.1,
            rack: None,
        });
    }
    brokers
}

/// Kafka node id of an agent: a stable hash of its id, so every agent computes the same
/// map without coordination.
pub(crate) fn node_id(agent_id: &str) -> i32 {
    (crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, agent_id.as_bytes()) & 0x7fff_ffff)
        as i32
}

/// `(host, port)` an agent advertises.
pub(crate) fn endpoint(agent: &AgentInfo) -> Option<(String, i32)> {
    split_host_port(&agent.advertised_addr)
}

/// Splits `host:port` (the port after the last colon).
pub(crate) fn split_host_port(addr: &str) -> Option<(String, i32)> {
    let (host, port) = addr.rsplit_once(':')?;
    Some((host.to_owned(), port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_stay_what_earlier_releases_computed() {
        // Clients and other agents know an agent by this id: changing the hash would
        // renumber every running agent on upgrade.
        assert_eq!(node_id("agent-1"), 371_586_634);
        assert!(node_id("any other agent id") >= 0);
    }
}
