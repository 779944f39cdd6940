//! Background upkeep of the log: retention, merging small objects, garbage collection.

use std::sync::Arc;

use crate::engine::Inner;

pub(crate) mod gc;
pub(crate) mod merge;
pub(crate) mod retention;

pub(crate) async fn run(inner: Arc<Inner>) {
    let mut retention = tokio::time::interval(inner.config.retention_check_interval);
    let mut gc = tokio::time::interval(inner.config.gc_interval);
    retention.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    gc.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick of an interval fires at once; skip it so start-up stays quiet.
    retention.tick().await;
    gc.tick().await;
    loop {
        tokio::select! {
            _ = retention.tick() => {
                if let Err(error) = retention::run_once(&inner).await {
                    tracing::warn!(%error, "retention pass failed");
                }
                if inner.config.merge_enabled
                    && let Err(error) = merge::run_once(&inner).await
                {
                    tracing::warn!(%error, "merge pass failed");
                }
            }
            _ = gc.tick() => {
                if let Err(error) = gc::run_once(&inner).await {
                    tracing::warn!(%error, "garbage collection pass failed");
                }
            }
            () = inner.stopping.cancelled() => break,
        }
    }
}
