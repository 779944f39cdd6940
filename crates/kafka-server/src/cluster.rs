//! How agents appear to Kafka clients: as brokers with stable 31-bit node ids.

use streamhouse_metadata::AgentInfo;

/// Kafka node id of an agent: a stable hash of its id, so every agent computes the same
/// map without coordination.
pub(crate) fn node_id(agent_id: &str) -> i32 {
    (crc32c::crc32c(agent_id.as_bytes()) & 0x7fff_ffff) as i32
}

/// `(host, port)` an agent advertises.
pub(crate) fn endpoint(agent: &AgentInfo) -> Option<(String, i32)> {
    let (host, port) = agent.advertised_addr.rsplit_once(':')?;
    Some((host.to_owned(), port.parse().ok()?))
}
