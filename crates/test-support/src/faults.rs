//! An object-store wrapper that injects failures and delays, for fault-injection tests.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

/// What to do to requests; all knobs can be changed while the store is in use.
#[derive(Debug, Default)]
pub struct Faults {
    /// Fail this many upcoming PUTs before they reach the store.
    pub fail_puts: AtomicU64,
    /// Let this many upcoming PUTs reach the store, then report failure anyway (a lost
    /// response: the object exists but the caller is told it does not).
    pub lose_put_responses: AtomicU64,
    /// Fail this many upcoming GETs.
    pub fail_gets: AtomicU64,
    /// Delay every PUT by this many milliseconds.
    pub put_delay_ms: AtomicU64,
    /// Delay every GET by this many milliseconds.
    pub get_delay_ms: AtomicU64,
    /// PUTs attempted (including failed ones).
    pub puts: AtomicU64,
    /// PUTs that reached the store and succeeded there.
    pub puts_stored: AtomicU64,
    /// GETs attempted.
    pub gets: AtomicU64,
}

fn take_one(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn injected(what: &str) -> object_store::Error {
    object_store::Error::Generic {
        store: "faulty",
        source: format!("injected {what} failure").into(),
    }
}

/// Wraps a store and applies [`Faults`].
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    /// The knobs and counters.
    pub faults: Arc<Faults>,
}

impl FaultyStore {
    /// Wraps `inner` with no faults enabled.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            faults: Arc::new(Faults::default()),
        }
    }

    async fn delay(ms: &AtomicU64) {
        let ms = ms.load(Ordering::SeqCst);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
}

impl fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyStore")
            .field("faults", &self.faults)
            .finish()
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Faulty({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.faults.puts.fetch_add(1, Ordering::SeqCst);
        Self::delay(&self.faults.put_delay_ms).await;
        if take_one(&self.faults.fail_puts) {
            return Err(injected("PUT"));
        }
        let result = self.inner.put_opts(location, payload, opts).await?;
        self.faults.puts_stored.fetch_add(1, Ordering::SeqCst);
        if take_one(&self.faults.lose_put_responses) {
            return Err(injected("PUT response"));
        }
        Ok(result)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.faults.gets.fetch_add(1, Ordering::SeqCst);
        Self::delay(&self.faults.get_delay_ms).await;
        if take_one(&self.faults.fail_gets) {
            return Err(injected("GET"));
        }
        self.inner.get_opts(location, options).await
    }

    async fn get_range(&self, location: &Path, range: Range<u64>) -> object_store::Result<Bytes> {
        self.faults.gets.fetch_add(1, Ordering::SeqCst);
        Self::delay(&self.faults.get_delay_ms).await;
        if take_one(&self.faults.fail_gets) {
            return Err(injected("GET"));
        }
        self.inner.get_range(location, range).await
    }

    async fn head(&self, location: &Path) -> object_store::Result<ObjectMeta> {
        self.inner.head(location).await
    }

    async fn delete(&self, location: &Path) -> object_store::Result<()> {
        self.inner.delete(location).await
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        self.inner.copy(from, to).await
    }

    async fn copy_if_not_exists(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        self.inner.copy_if_not_exists(from, to).await
    }
}
