//! Live telemetry for dashboards: a sampler turns counters into rates every
//! `http.metrics_interval`, keeps `http.metrics_history` of samples in memory for
//! `GET /api/v1/metrics`, refreshes the gauges Prometheus scrapes (lag, group states,
//! partitions led), and broadcasts [`Event`]s to WebSocket subscribers (`/ws`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use streamhouse_groups::GroupState;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Events a slow WebSocket subscriber may fall behind by before it is told it missed some.
const EVENT_BUFFER: usize = 1024;

/// Groups whose lag each sample keeps (the most lagging), so the history's memory does
/// not grow with the number of groups clients create.
const SAMPLED_GROUPS: usize = 100;

/// One sample of the agent's activity. Rates are per second over the last interval and
/// count this agent's traffic; lag is the cluster's (every group's committed offsets
/// against the high watermarks).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Sample {
    /// When the sample was taken (ms since the epoch).
    pub(crate) at_ms: i64,
    pub(crate) produce_records_per_sec: f64,
    pub(crate) produce_bytes_per_sec: f64,
    pub(crate) consume_records_per_sec: f64,
    pub(crate) consume_bytes_per_sec: f64,
    /// Sum of every group's lag.
    pub(crate) total_lag: i64,
    /// Total lag by group id, for the 100 most lagging groups.
    pub(crate) group_lag: BTreeMap<String, i64>,
    pub(crate) live_agents: usize,
    /// Partitions this agent leads.
    pub(crate) partitions_led: usize,
}

/// What the WebSocket pushes, as `{"type": ..., "data": ...}` JSON text frames.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub(crate) enum Event {
    /// Sent first on every connection.
    Hello {
        agent_id: String,
        /// How often `metric_update` arrives.
        interval_ms: u64,
        lag_alert_threshold: i64,
    },
    /// A new sample, every interval.
    MetricUpdate(Sample),
    /// A group's total lag changed since the last sample.
    LagUpdate {
        group: String,
        lag: i64,
        previous: Option<i64>,
    },
    /// A group's total lag rose above `http.lag_alert_threshold`.
    LagAlert {
        group: String,
        lag: i64,
        threshold: i64,
    },
    /// An agent appeared, went down, came back, or was removed.
    AgentStatus {
        agent_id: String,
        address: String,
        /// `live`, `down` (no heartbeat within a lease TTL) or `removed`.
        status: &'static str,
    },
    /// The subscriber fell behind and `missed` events were dropped; refetch state over
    /// REST.
    Error { message: String, missed: u64 },
}

/// The sampler's memory: history, the last lag and agent views, the event channel.
#[derive(Debug)]
pub(crate) struct Live {
    history: Mutex<VecDeque<Sample>>,
    capacity: usize,
    events: broadcast::Sender<Arc<str>>,
    previous_lag: Mutex<BTreeMap<String, i64>>,
    previous_agents: Mutex<HashMap<String, (&'static str, String)>>,
}

impl Live {
    pub(crate) fn new(interval: Duration, history: Duration) -> Self {
        let capacity = (history.as_secs_f64() / interval.as_secs_f64()).ceil() as usize;
        Self {
            history: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity: capacity.max(1),
            events: broadcast::channel(EVENT_BUFFER).0,
            previous_lag: Mutex::default(),
            previous_agents: Mutex::default(),
        }
    }

    /// A receiver of every event from now on, as JSON text.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.events.subscribe()
    }

    /// Samples taken at or after `since_ms`, oldest first.
    pub(crate) fn history(&self, since_ms: i64) -> Vec<Sample> {
        lock(&self.history)
            .iter()
            .filter(|s| s.at_ms >= since_ms)
            .cloned()
            .collect()
    }

    pub(crate) fn latest(&self) -> Option<Sample> {
        lock(&self.history).back().cloned()
    }

    /// Every agent's last known status, as the events a new subscriber starts from.
    pub(crate) fn agent_statuses(&self) -> Vec<Event> {
        let agents = lock(&self.previous_agents);
        let mut ids: Vec<&String> = agents.keys().collect();
        ids.sort();
        ids.into_iter()
            .map(|id| Event::AgentStatus {
                agent_id: id.clone(),
                address: agents[id].1.clone(),
                status: agents[id].0,
            })
            .collect()
    }

    fn publish(&self, event: &Event) {
        match serde_json::to_string(event) {
            // No subscribers is not an error.
            Ok(text) => drop(self.events.send(Arc::from(text))),
            Err(error) => tracing::error!(%error, "cannot serialize a live event"),
        }
    }

    fn record(&self, sample: Sample) {
        let mut history = lock(&self.history);
        if history.len() == self.capacity {
            history.pop_front();
        }
        history.push_back(sample);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Samples every `http.metrics_interval` until `shutdown`.
pub(crate) async fn run_sampler(state: AppState, shutdown: CancellationToken) {
    let interval = state.inner.config.metrics_interval;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let metrics = Arc::clone(state.engine().metrics());
    let mut last = Counters::read(&metrics);
    let mut last_at = Instant::now();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let now = Counters::read(&metrics);
        let elapsed = last_at.elapsed().as_secs_f64().max(1e-3);
        last_at = Instant::now();
        let rates = now.rates_since(&last, elapsed);
        last = now;
        if let Err(error) = sample(&state, rates).await {
            tracing::warn!(%error, "sampling live metrics failed; will retry");
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Counters {
    produced_records: u64,
    produced_bytes: u64,
    consumed_records: u64,
    consumed_bytes: u64,
}

impl Counters {
    fn read(metrics: &streamhouse_metrics::Metrics) -> Self {
        Self {
            produced_records: metrics.producer.totals().records(),
            produced_bytes: metrics.producer.totals().bytes(),
            consumed_records: metrics.consumer.totals().records(),
            consumed_bytes: metrics.consumer.totals().bytes(),
        }
    }

    fn rates_since(&self, before: &Self, secs: f64) -> [f64; 4] {
        let rate = |now: u64, then: u64| now.saturating_sub(then) as f64 / secs;
        [
            rate(self.produced_records, before.produced_records),
            rate(self.produced_bytes, before.produced_bytes),
            rate(self.consumed_records, before.consumed_records),
            rate(self.consumed_bytes, before.consumed_bytes),
        ]
    }
}

type SampleError = Box<dyn std::error::Error + Send + Sync>;

async fn sample(state: &AppState, rates: [f64; 4]) -> Result<(), SampleError> {
    let engine = state.engine();
    let metrics = engine.metrics();
    let live = &state.inner.live;
    let now = state.now_ms();

    // Agents, and their status changes.
    let agents = engine.metadata().list_agents().await?;
    let ttl = state.inner.lease_ttl_ms;
    let statuses: HashMap<String, (&'static str, String)> = agents
        .iter()
        .map(|a| {
            let status = if a.is_live(now, ttl) { "live" } else { "down" };
            (a.id.clone(), (status, a.advertised_addr.clone()))
        })
        .collect();
    let live_agents = statuses.values().filter(|(s, _)| *s == "live").count();
    {
        let mut previous = lock(&live.previous_agents);
        for (id, (status, address)) in &statuses {
            if previous.get(id).map(|(s, _)| s) != Some(status) {
                live.publish(&Event::AgentStatus {
                    agent_id: id.clone(),
                    address: address.clone(),
                    status,
                });
            }
        }
        for gone in previous.keys().filter(|id| !statuses.contains_key(*id)) {
            live.publish(&Event::AgentStatus {
                agent_id: gone.clone(),
                address: String::new(),
                status: "removed",
            });
        }
        *previous = statuses;
    }

    // Lag of every group; the Prometheus gauges only for groups coordinated here, so a
    // sum over agents counts each group once.
    let groups = state.groups();
    let mut group_lag = BTreeMap::new();
    let mut local_lag: Vec<(String, String, i64)> = Vec::new();
    let mut local_states: HashMap<String, usize> = HashMap::new();
    for overview in groups.all_groups().await? {
        if overview.state == GroupState::Dead {
            continue;
        }
        let coordinated_here = groups
            .coordinator_of(&overview.group_id)
            .await
            .ok()
            .as_deref()
            == Some(engine.agent_id());
        if coordinated_here {
            *local_states
                .entry(overview.state.as_str().to_owned())
                .or_default() += 1;
        }
        let Ok(lag) = groups.lag(&overview.group_id).await else {
            continue; // deleted meanwhile
        };
        if coordinated_here {
            let mut by_topic: BTreeMap<&str, i64> = BTreeMap::new();
            for p in &lag.partitions {
                *by_topic.entry(p.topic.as_str()).or_default() += p.lag.unwrap_or(0);
            }
            local_lag.extend(
                by_topic
                    .into_iter()
                    .map(|(topic, lag)| (overview.group_id.clone(), topic.to_owned(), lag)),
            );
        }
        group_lag.insert(overview.group_id, lag.total_lag);
    }
    metrics.consumer.set_lag(
        local_lag
            .iter()
            .map(|(group, topic, lag)| (group.as_str(), topic.as_str(), *lag)),
    );
    metrics.groups.set_states(&local_states);
    let partitions_led = engine.led_partitions().len();
    metrics.agent.set_partitions_led(partitions_led);

    let threshold = state.inner.config.lag_alert_threshold;
    {
        let mut previous = lock(&live.previous_lag);
        for (group, lag) in &group_lag {
            let before = previous.get(group).copied();
            if before != Some(*lag) {
                live.publish(&Event::LagUpdate {
                    group: group.clone(),
                    lag: *lag,
                    previous: before,
                });
            }
            if *lag > threshold && before.is_none_or(|b| b <= threshold) {
                live.publish(&Event::LagAlert {
                    group: group.clone(),
                    lag: *lag,
                    threshold,
                });
            }
        }
        previous.clone_from(&group_lag);
    }
    let total_lag = group_lag.values().sum();
    if group_lag.len() > SAMPLED_GROUPS {
        let mut by_lag: Vec<(String, i64)> = group_lag.into_iter().collect();
        by_lag.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        by_lag.truncate(SAMPLED_GROUPS);
        group_lag = by_lag.into_iter().collect();
    }

    let [
        produce_records,
        produce_bytes,
        consume_records,
        consume_bytes,
    ] = rates;
    let sample = Sample {
        at_ms: now,
        produce_records_per_sec: produce_records,
        produce_bytes_per_sec: produce_bytes,
        consume_records_per_sec: consume_records,
        consume_bytes_per_sec: consume_bytes,
        total_lag,
        group_lag,
        live_agents,
        partitions_led,
    };
    live.publish(&Event::MetricUpdate(sample.clone()));
    live.record(sample);
    Ok(())
}
