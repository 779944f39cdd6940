//! Integration tests for the metadata store: the conformance suite on every backend (one
//! test per suite function), backend specifics, and concurrency races.

mod concurrency;
mod postgres;
mod sqlite;

/// Expands to one `#[tokio::test]` per conformance function, each on a fresh store from
/// `$fixture::new()` (which returns `None` to skip) and finished with `$fixture::finish()`.
macro_rules! conformance_tests {
    ($fixture:ty) => {
        $crate::conformance_tests!(
            $fixture;
            topic_lifecycle,
            topic_errors,
            add_partitions,
            agents,
            lease_acquire_and_contend,
            lease_renew_and_release,
            commit_flush_commits,
            commit_flush_fencing,
            commit_flush_wide,
            segment_queries,
            advance_log_start,
            replace_segments,
            referenced_objects,
            producer_ids,
            group_offsets,
            group_coordination,
            delete_topic,
            run_all,
        );
    };
    ($fixture:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(fixture) = <$fixture>::new().await else {
                    return;
                };
                streamhouse_metadata::conformance::$name(fixture.store.as_ref()).await;
                fixture.finish().await;
            }
        )*
    };
}
pub(crate) use conformance_tests;
