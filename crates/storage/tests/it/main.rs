//! Storage tests, run against every backend: `memory://`, the local filesystem, and a real
//! S3-API server process (`s3s-fs`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use object_store::ObjectStore;
use streamhouse_storage::format::{ChunkMeta, ObjectBuilder, decode_index};
use streamhouse_storage::{
    InstrumentedStore, SegmentStore, SegmentStoreConfig, StorageCounters, open_object_store,
};
use streamhouse_test_support::faults::FaultyStore;
use streamhouse_test_support::s3::S3Server;
use uuid::Uuid;

fn config() -> SegmentStoreConfig {
    SegmentStoreConfig {
        cache_bytes: 1 << 20,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(20),
    }
}

fn chunk(partition: i32, base: i64, n: i64) -> ChunkMeta {
    ChunkMeta {
        topic_id: Uuid::from_u128(99),
        partition,
        base_offset: base,
        last_offset: base + n - 1,
        max_timestamp: 1_000 + base,
        record_count: n,
    }
}

/// The conformance suite: what the engine relies on from any object store.
async fn conformance(store: Arc<dyn ObjectStore>) {
    let counters = Arc::new(StorageCounters::default());
    let store: Arc<dyn ObjectStore> =
        Arc::new(InstrumentedStore::new(store, Arc::clone(&counters)));
    let segments = SegmentStore::new(Arc::clone(&store), config());

    // A multi-partition object: each partition's bytes contiguous, index readable.
    let mut builder = ObjectBuilder::new();
    let a = builder.push_chunk(
        chunk(0, 0, 3),
        [Bytes::from_static(b"part-0:"), Bytes::from_static(b"abc")],
    );
    let big = Bytes::from(vec![7u8; 300_000]);
    let b = builder.push_chunk(chunk(1, 10, 1), [big.clone()]);
    let key = segments.new_flush_key();
    let stored = segments.put(&key, builder.finish()).await.expect("put");
    assert!(stored.size > 300_010);

    let got_a = segments
        .read_range(&key, a.start, a.end - a.start)
        .await
        .expect("read a");
    assert_eq!(&got_a[..], b"part-0:abc");
    let got_b = segments
        .read_range(&key, b.start, b.end - b.start)
        .await
        .expect("read b");
    assert_eq!(got_b, big);

    // Cached: a second read of the same range makes no request.
    let gets = counters.snapshot().get.requests;
    segments
        .read_range(&key, a.start, a.end - a.start)
        .await
        .expect("cached read");
    assert_eq!(
        counters.snapshot().get.requests,
        gets,
        "second read must hit the cache"
    );

    // The object is self-describing.
    let whole = segments.read_object(&key).await.expect("whole");
    let index = decode_index(&whole).expect("index");
    assert_eq!(index.len(), 2);
    assert_eq!(index[1].meta, chunk(1, 10, 1));
    assert_eq!(index[1].range, b);

    // Keys are never overwritten.
    let err = store
        .put_opts(
            &key.as_str().into(),
            Bytes::from_static(b"x").into(),
            object_store::PutMode::Create.into(),
        )
        .await;
    assert!(
        matches!(err, Err(object_store::Error::AlreadyExists { .. })),
        "{err:?}"
    );

    // Listing and deleting.
    let listed = segments.list_objects().await.expect("list");
    assert_eq!(
        listed.iter().filter(|m| m.location.as_ref() == key).count(),
        1
    );
    segments.delete(&key).await.expect("delete");
    segments.delete(&key).await.expect("deleting twice is fine");
    assert!(
        segments
            .list_objects()
            .await
            .expect("list")
            .iter()
            .all(|m| m.location.as_ref() != key)
    );
    let gone = segments.read_range(&key, a.start, 1).await;
    assert!(
        gone.is_err(),
        "deleted object must not be readable, even from cache"
    );

    let stats = counters.snapshot();
    assert_eq!(
        stats.put.requests, 2,
        "one successful PUT and one refused overwrite"
    );
    assert!(stats.put.bytes >= stored.size);
}

#[tokio::test]
async fn conformance_memory() {
    conformance(open_object_store("memory://", &[]).expect("memory").store).await;
}

#[tokio::test]
async fn conformance_local_filesystem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}/objects", dir.path().display());
    conformance(open_object_store(&url, &[]).expect("file").store).await;
}

#[tokio::test]
async fn conformance_s3_api_server() {
    let Some(server) = S3Server::start().await.expect("start s3s-fs") else {
        return;
    };
    let opened = open_object_store(&server.url("conformance"), &server.object_store_options())
        .expect("s3 store");
    assert!(opened.remote);
    conformance(opened.store).await;
}

/// A full cache still keeps the range just read: a consumer reading forward fetches a
/// segment once, then serves its next fetches of that segment from memory, even when the
/// cache is full of ranges that were read more often.
#[tokio::test]
async fn a_full_cache_keeps_the_range_just_read() {
    let counters = Arc::new(StorageCounters::default());
    let store: Arc<dyn ObjectStore> = Arc::new(InstrumentedStore::new(
        Arc::new(object_store::memory::InMemory::new()),
        Arc::clone(&counters),
    ));
    let segments = SegmentStore::new(Arc::clone(&store), config()); // 1 MiB cache
    let mut builder = ObjectBuilder::new();
    let ranges: Vec<_> = (0..16)
        .map(|p| builder.push_chunk(chunk(p, 0, 1), [Bytes::from(vec![p as u8; 100_000])]))
        .collect();
    let key = segments.new_flush_key();
    segments.put(&key, builder.finish()).await.expect("put");
    let read = |i: usize| {
        let range = ranges[i].clone();
        let (segments, key) = (&segments, &key);
        async move {
            segments
                .read_range(key, range.start, range.end - range.start)
                .await
                .expect("read")
        }
    };
    // Fill the cache with ranges read several times each.
    for _ in 0..10 {
        for i in 0..10 {
            read(i).await;
        }
        segments.run_pending_cache_tasks().await;
    }
    for i in 10..16 {
        read(i).await;
        segments.run_pending_cache_tasks().await;
        let gets = counters.snapshot().get.requests;
        assert_eq!(read(i).await[0], i as u8);
        assert_eq!(
            counters.snapshot().get.requests,
            gets,
            "range {i}, just read, must be served from the cache"
        );
    }
}

#[tokio::test]
async fn failed_uploads_are_retried_until_they_land() {
    let faulty = Arc::new(FaultyStore::new(
        open_object_store("memory://", &[]).expect("m").store,
    ));
    faulty.faults.fail_puts.store(4, Ordering::SeqCst);
    let segments = SegmentStore::new(Arc::clone(&faulty) as _, config());
    let mut builder = ObjectBuilder::new();
    let range = builder.push_chunk(chunk(0, 0, 1), [Bytes::from_static(b"data")]);
    let key = segments.new_flush_key();
    segments
        .put(&key, builder.finish())
        .await
        .expect("eventually stored");
    assert_eq!(faulty.faults.puts.load(Ordering::SeqCst), 5);
    let got = segments
        .read_range(&key, range.start, 4)
        .await
        .expect("read");
    assert_eq!(&got[..], b"data");
}

#[tokio::test]
async fn a_lost_put_response_is_recognised_on_retry() {
    let faulty = Arc::new(FaultyStore::new(
        open_object_store("memory://", &[]).expect("m").store,
    ));
    faulty.faults.lose_put_responses.store(1, Ordering::SeqCst);
    let segments = SegmentStore::new(Arc::clone(&faulty) as _, config());
    let mut builder = ObjectBuilder::new();
    builder.push_chunk(chunk(0, 0, 1), [Bytes::from_static(b"data")]);
    let key = segments.new_flush_key();
    let stored = segments
        .put(&key, builder.finish())
        .await
        .expect("stored once");
    assert_eq!(
        faulty.faults.puts_stored.load(Ordering::SeqCst),
        1,
        "written exactly once"
    );
    assert_eq!(
        segments.read_object(&key).await.expect("read").len() as u64,
        stored.size
    );
}

#[tokio::test]
async fn uploads_can_be_abandoned_only_on_request() {
    let faulty = Arc::new(FaultyStore::new(
        open_object_store("memory://", &[]).expect("m").store,
    ));
    faulty.faults.fail_puts.store(u64::MAX, Ordering::SeqCst);
    let segments = SegmentStore::new(Arc::clone(&faulty) as _, config());
    let abort = tokio_util::sync::CancellationToken::new();
    let key = segments.new_flush_key();
    let put = segments.put_until(&key, ObjectBuilder::new().finish(), &abort);
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        abort.cancel();
    };
    let (result, ()) = tokio::join!(put, cancel);
    assert!(matches!(
        result,
        Err(streamhouse_storage::Error::Cancelled { .. })
    ));
    assert!(
        faulty.faults.puts.load(Ordering::SeqCst) > 3,
        "kept retrying until cancelled"
    );
}

#[tokio::test]
async fn transient_get_failures_are_retried() {
    let faulty = Arc::new(FaultyStore::new(
        open_object_store("memory://", &[]).expect("m").store,
    ));
    let segments = SegmentStore::new(Arc::clone(&faulty) as _, config());
    let mut builder = ObjectBuilder::new();
    let mut payload = BytesMut::new();
    payload.extend_from_slice(b"0123456789");
    let range = builder.push_chunk(chunk(0, 0, 1), [payload.freeze()]);
    let key = segments.new_flush_key();
    segments.put(&key, builder.finish()).await.expect("put");
    faulty.faults.fail_gets.store(2, Ordering::SeqCst);
    let got = segments
        .read_range(&key, range.start, 10)
        .await
        .expect("third attempt succeeds");
    assert_eq!(&got[..], b"0123456789");
}
