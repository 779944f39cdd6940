//! Garbage collection: deletes objects no segment row references. An object is deleted
//! only if it is older than the grace period *and* was already seen unreferenced at least
//! one grace period earlier, so neither an upload awaiting its commit nor a reader that
//! looked up a row just before a merge or retention replaced it loses its object.

use std::sync::Arc;

use crate::Result;
use crate::engine::Inner;

const LOOKUP_BATCH: usize = 500;

pub(crate) async fn run_once(inner: &Arc<Inner>) -> Result<usize> {
    let now = inner.clock.now_ms();
    let grace = inner.config.gc_grace.as_millis() as i64;
    let old_enough: Vec<String> = inner
        .segments
        .list_objects()
        .await?
        .into_iter()
        .filter(|meta| meta.last_modified.timestamp_millis() + grace <= now)
        .map(|meta| meta.location.to_string())
        .collect();
    let mut unreferenced = Vec::new();
    for batch in old_enough.chunks(LOOKUP_BATCH) {
        let referenced = inner.metadata.referenced_objects(batch).await?;
        unreferenced.extend(batch.iter().filter(|k| !referenced.contains(*k)).cloned());
    }
    let due: Vec<String> = {
        let mut seen = inner
            .gc_suspects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|key, _| unreferenced.contains(key));
        unreferenced
            .into_iter()
            .filter(|key| *seen.entry(key.clone()).or_insert(now) + grace <= now)
            .collect()
    };
    let mut deleted = 0;
    for key in due {
        // Check again right before deleting: a commit may have referenced it meanwhile.
        if !inner
            .metadata
            .referenced_objects(std::slice::from_ref(&key))
            .await?
            .is_empty()
        {
            continue;
        }
        inner.segments.delete(&key).await?;
        inner
            .gc_suspects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
        deleted += 1;
    }
    if deleted > 0 {
        tracing::info!(deleted, "garbage collected unreferenced objects");
    }
    Ok(deleted)
}
