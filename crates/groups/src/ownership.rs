//! Which agent coordinates a group: rendezvous hashing over the live agents, so every
//! agent computes the same answer from the same agent list, and an agent joining or
//! leaving moves only the groups it wins or held.

/// The agent among `agents` that coordinates `group` (`None` if there are none).
pub fn coordinator_of<'a>(group: &str, agents: &'a [String]) -> Option<&'a str> {
    agents
        .iter()
        .max_by_key(|agent| (score(group, agent), agent.as_str()))
        .map(String::as_str)
}

/// A stable 64-bit score of the pair: FNV-1a over both names, then a finalizer so that
/// near-identical inputs spread out. Stable across builds and platforms, unlike std's
/// hasher, because agents of different versions must agree.
fn score(group: &str, agent: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for byte in group.bytes().chain([0xff]).chain(agent.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    // splitmix64's finalizer.
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agents(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("agent-{i}")).collect()
    }

    #[test]
    fn every_agent_computes_the_same_coordinator_whatever_the_list_order() {
        let mut list = agents(5);
        let before: Vec<_> = (0..100)
            .map(|g| coordinator_of(&format!("g{g}"), &list).map(str::to_owned))
            .collect();
        list.reverse();
        let after: Vec<_> = (0..100)
            .map(|g| coordinator_of(&format!("g{g}"), &list).map(str::to_owned))
            .collect();
        assert_eq!(before, after);
        assert_eq!(coordinator_of("g", &[]), None);
    }

    #[test]
    fn groups_spread_over_agents_and_only_a_departed_agents_groups_move() {
        let all = agents(4);
        let mut counts = std::collections::HashMap::new();
        for g in 0..4000 {
            *counts
                .entry(coordinator_of(&format!("group-{g}"), &all).unwrap_or_default())
                .or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 4);
        assert!(
            counts.values().all(|&c| (700..=1300).contains(&c)),
            "{counts:?}"
        );

        let without_last = &all[..3];
        for g in 0..4000 {
            let group = format!("group-{g}");
            let old = coordinator_of(&group, &all).unwrap_or_default();
            let new = coordinator_of(&group, without_last).unwrap_or_default();
            if old != "agent-3" {
                assert_eq!(old, new, "{group} moved although its agent stayed");
            }
        }
    }
}
