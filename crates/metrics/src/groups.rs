//! `streamhouse_consumer_groups` and `streamhouse_group_rebalances_total`.

use std::collections::HashMap;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

/// Group coordinator families.
#[derive(Debug)]
pub struct GroupMetrics {
    groups: Family<StateLabel, Gauge>,
    rebalances: Counter,
}

/// The states a classic group can be in, so every one is exported even at zero.
const STATES: [&str; 5] = [
    "Empty",
    "PreparingRebalance",
    "CompletingRebalance",
    "Stable",
    "Dead",
];

impl GroupMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            groups: Family::default(),
            rebalances: Counter::default(),
        };
        for state in STATES {
            metrics
                .groups
                .get_or_create(&StateLabel {
                    state: state.to_owned(),
                })
                .set(0);
        }
        registry.register(
            "consumer_groups",
            "Consumer groups this agent coordinates, by state",
            metrics.groups.clone(),
        );
        registry.register(
            "group_rebalances",
            "Rebalances completed (a new generation handed out) by groups this agent coordinates",
            metrics.rebalances.clone(),
        );
        metrics
    }

    /// A group moved to a new generation.
    pub fn rebalanced(&self) {
        self.rebalances.inc();
    }

    /// Sets the per-state group counts; states not named are zero.
    pub fn set_states(&self, counts: &HashMap<String, usize>) {
        for state in STATES {
            let count = counts.get(state).copied().unwrap_or(0);
            self.groups
                .get_or_create(&StateLabel {
                    state: state.to_owned(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
}
